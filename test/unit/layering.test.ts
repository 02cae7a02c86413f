/**
 * The layering of src/ is checked by `npm run lint:deps` (dependency-cruiser with the rules of
 * .dependency-cruiser.cjs) in `npm test`. These tests prove the check bites: the real tree has no
 * violation; a tree with an upward import, a cycle or an AWS SDK import outside the adapter is
 * refused with the rule's name; and each package rule fires on the real tree, node_modules and
 * all: a forbidden import planted in a real file of src/ (a type-only import, erased at run time,
 * so other tests running meanwhile are not affected) makes `npm run lint:deps` fail naming the
 * rule, and the file is restored whatever happens. (In one file, so the plants never overlap the
 * check of the real tree.)
 */
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
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
    expect(found).toContain("one-adapter-per-aws-client: src/consumer/b.ts -> @aws-sdk/client-partnercentral-account");
    expect(found).toContain("pure-core-without-redis: src/consumer/decide.ts -> bullmq");
  });
});

const planted = new Map<string, string>();
afterEach(() => {
  for (const [file, text] of planted) writeFileSync(file, text);
  planted.clear();
});

/** Runs `npm run lint:deps` with `line` added at the top of `file` (under src/); its exit code and output. */
async function lintWith(file: string, line: string): Promise<{ code: number; output: string }> {
  const path = `${root}${file}`;
  const original = readFileSync(path, "utf8");
  planted.set(path, original);
  writeFileSync(path, `${line}\n${original}`);
  try {
    const { stdout, stderr } = await promisify(execFile)("npm", ["run", "-s", "lint:deps"], { cwd: root });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  } finally {
    writeFileSync(path, original);
    planted.delete(path);
  }
}

describe("the layering check on the real tree (npm run lint:deps)", () => {
  it.each([
    [
      "BullMQ in the pure core",
      "src/consumer/decide.ts",
      'import type { Queue } from "bullmq";',
      "pure-core-without-redis",
    ],
    [
      "ioredis outside the store",
      "src/producer/discover.ts",
      'import type { Redis } from "ioredis";',
      "only-the-store-imports-ioredis",
    ],
    [
      "BullMQ's internals outside the store",
      "src/consumer/worker.ts",
      'import type * as S from "bullmq/dist/esm/scripts/index.js";',
      "only-the-store-reads-bullmq-internals",
    ],
    [
      "the Partner Central client outside its adapter",
      "src/producer/discover.ts",
      'import type { PartnerCentralAccountClient } from "@aws-sdk/client-partnercentral-account";',
      "one-adapter-per-aws-client",
    ],
    [
      "the SQS client in another AWS adapter than its own",
      "src/aws/sdk-invitation-api.ts",
      'import type { SQSClient } from "@aws-sdk/client-sqs";',
      "one-adapter-for-sqs",
    ],
    [
      "the PostgreSQL driver outside the history",
      "src/producer/discover.ts",
      'import type { Pool } from "pg";',
      "only-the-history-imports-postgresql",
    ],
  ])("fails on %s, naming the rule", async (_what, file, line, rule) => {
    const { code, output } = await lintWith(file, line);
    expect(code, output).not.toBe(0);
    expect(output).toContain(rule);
    expect(output).toContain(file);
  });

  it("passes on the tree as it is (the plants above are gone)", async () => {
    const { stdout } = await promisify(execFile)("npm", ["run", "-s", "lint:deps"], { cwd: root });
    expect(stdout).toMatch(/no dependency violations found/);
  }, 60_000);
});
