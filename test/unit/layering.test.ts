/**
 * The layering of src/ is checked by `npm run lint:deps` (dependency-cruiser with the rules of
 * .dependency-cruiser.cjs) in `npm test`. These tests prove the check bites: the real tree has no
 * violation, and a tree with an upward import, a cycle or an AWS SDK import outside the adapter
 * is refused with the rule's name.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cruise } from "dependency-cruiser";

const root = fileURLToPath(new URL("../../", import.meta.url));
const ruleSet = createRequire(import.meta.url)(join(root, ".dependency-cruiser.cjs")) as {
  forbidden: unknown[];
  options: Record<string, unknown>;
};

interface CruiseOutput {
  summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> };
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; couldNotResolve: boolean }> }>;
}

async function cruiseTree(baseDir: string): Promise<CruiseOutput> {
  const options = { ...ruleSet.options, baseDir, tsConfig: { fileName: join(baseDir, "tsconfig.json") } };
  const result = await cruise(["src"], {
    ...options,
    validate: true,
    ruleSet: { forbidden: ruleSet.forbidden },
  } as never);
  return result.output as CruiseOutput;
}

async function violations(baseDir: string): Promise<string[]> {
  return (await cruiseTree(baseDir)).summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

const scratch = mkdtempSync(join(tmpdir(), "pci-layering-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
function tree(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  const tsconfig = {
    compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true },
    include: ["src"],
  };
  for (const [file, text] of Object.entries({ ...files, "tsconfig.json": JSON.stringify(tsconfig) })) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

describe("layering (dependency-cruiser)", () => {
  it("finds no violation in src/, having resolved every import of ours to a source file", async () => {
    const output = await cruiseTree(root);
    expect(output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
    const ours = output.modules.filter((m) => m.source.startsWith("src/"));
    expect(ours.length).toBeGreaterThan(80);
    const local = ours.flatMap((m) => m.dependencies.filter((d) => d.resolved.startsWith("src/") || d.couldNotResolve));
    expect(local.length).toBeGreaterThan(200);
    expect(local.filter((d) => d.couldNotResolve || !d.resolved.endsWith(".ts"))).toEqual([]);
  });

  it("refuses an upward import, even type-only", async () => {
    const dir = tree("upward", {
      "src/index.ts": 'export * from "./schemas/request.js";\nexport * from "./app/run.js";\n',
      "src/schemas/request.ts": 'import type { Run } from "../app/run.js";\nexport type R = Run;\n',
      "src/app/run.ts": "export type Run = string;\n",
    });
    expect(await violations(dir)).toEqual(["schemas-are-the-base: src/schemas/request.ts -> src/app/run.ts"]);
  });

  it("refuses a cycle, an AWS SDK import outside the adapter, and BullMQ in the decision core", async () => {
    const dir = tree("cycle", {
      "src/index.ts": 'export * from "./consumer/a.js";\n',
      "src/consumer/a.ts": 'import { b } from "./b.js";\nexport const a = () => b;\n',
      "src/consumer/b.ts":
        'import { a } from "./a.js";\nimport "@aws-sdk/client-partnercentral-account";\nexport const b = () => a;\n',
      "src/consumer/decide.ts": 'import type { Job } from "bullmq";\nexport type J = Job;\n',
    });
    const found = await violations(dir);
    expect(found).toContain("no-circular: src/consumer/a.ts -> src/consumer/b.ts");
    expect(found).toContain(
      "only-the-sdk-adapter-imports-the-aws-sdk: src/consumer/b.ts -> @aws-sdk/client-partnercentral-account",
    );
    expect(found).toContain("pure-core-without-redis: src/consumer/decide.ts -> bullmq");
  });
});
