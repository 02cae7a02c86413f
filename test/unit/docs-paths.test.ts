import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The documentation names files of this repository: in README.md and docs/*.md as `src/…`,
// `test/…`, `bench/…`, `chaos/…`, `deploy/…`, `schemas/…`, `scripts/…`, `docs/…`, `.ci/…`, and in
// docs/guarantees.md also relative to src/ (`consumer/process-job.ts`), with the test titles the
// ledger quotes. A refactoring that moves a file or renames a test leaves the ledger pointing at
// nothing; this test says where.

const root = fileURLToPath(new URL("../../", import.meta.url));
const srcDirs = readdirSync(join(root, "src"), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
/** First segments that name the repository's root: a path starting with one must exist from the root. */
const ROOT_PREFIXES = ["src", "test", "bench", "chaos", "deploy", "schemas", "scripts", "docs", ".ci"];
/** First segments that are (also) src/ folders: `consumer/x.ts` is `src/consumer/x.ts`. */
const SRC_PREFIXES = new Set(srcDirs);
const FILE_EXTENSIONS = /\.(ts|mjs|cjs|js|lua|json|ya?ml|md|svg|sh)$/;

const docFiles = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** Every file of the repository by base name (not node_modules, dist, .git), for bare names. */
const baseNames = new Set<string>();
function walk(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (["node_modules", "dist", ".git"].includes(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path);
    else baseNames.add(e.name);
  }
}
walk(root);

/** `a/{b, c}.ts` → `a/b.ts`, `a/c.ts` (one level of braces, as the docs write them). */
function expandBraces(token: string): string[] {
  const m = /^(.*?)\{([^{}]*)\}(.*)$/.exec(token);
  if (!m) return [token];
  const [, head, body, tail] = m as unknown as [string, string, string, string];
  return body.split(",").flatMap((part) => expandBraces(`${head}${part.trim()}${tail}`));
}

/** The inline code spans of a markdown text, fenced blocks included (their lines as spans). */
function codeSpans(text: string): string[] {
  const spans: string[] = [];
  const fence = /```[^\n]*\n([\s\S]*?)```/g;
  for (const m of text.matchAll(fence)) spans.push(...(m[1] ?? "").split("\n"));
  const outside = text.replace(fence, "");
  for (const m of outside.matchAll(/`([^`\n]+)`/g)) spans.push(m[1] ?? "");
  return spans;
}

type Mention = { doc: string; token: string };

/** The repository paths a doc names: tokens of its code spans that look like one. */
function pathMentions(doc: string): Mention[] {
  const text = readFileSync(join(root, doc), "utf8");
  const found: Mention[] = [];
  for (const span of codeSpans(text)) {
    // A span is a path, or a command line with paths among its words; braces keep their spaces.
    const words = span.replace(/\{[^{}]*\}/g, (b) => b.replace(/\s+/g, "")).split(/\s+/);
    for (const raw of words) {
      const word = raw.replace(/^[("'[]+|[)"',;:.\]]+$/g, "").replace(/:\d+(-\d+)?$/, "");
      if (!word || word.includes("://") || /[<>*$%…]|\.\.\./.test(word)) continue;
      const first = word.split("/")[0] ?? "";
      const explicit = word.includes("/") && ROOT_PREFIXES.includes(first);
      // `consumer/x.ts` anywhere; in the ledger, any `dir/file.ext` (a folder that moved is no src/ folder now).
      const srcRelative =
        word.includes("/") &&
        !word.startsWith("/") &&
        ((SRC_PREFIXES.has(first) && FILE_EXTENSIONS.test(word)) ||
          (doc === "docs/guarantees.md" && (SRC_PREFIXES.has(first) || FILE_EXTENSIONS.test(word))));
      const bare = !word.includes("/") && FILE_EXTENSIONS.test(word) && /^[\w.-]+$/.test(word);
      if (explicit || srcRelative || (bare && doc === "docs/guarantees.md")) {
        for (const token of expandBraces(word)) found.push({ doc, token });
      }
    }
  }
  return found;
}

function resolves(token: string): boolean {
  if (!token.includes("/")) return baseNames.has(token);
  const candidates = [token, `src/${token}`];
  const first = token.split("/")[0] ?? "";
  // An explicit root path is read from the root only (`src/x` is never `src/src/x`).
  const tries = ROOT_PREFIXES.includes(first) && !SRC_PREFIXES.has(first) ? [token] : candidates;
  return tries.some((p) => {
    const path = join(root, p.replace(/\/$/, ""));
    // `consumer/{process-job, decide}`: modules named without their extension.
    // `chaos/run.js`: the compiled name of a module (`npm run build`).
    const compiled = p.endsWith(".js") && existsSync(path.replace(/\.js$/, ".ts"));
    return existsSync(path) || compiled || (!FILE_EXTENSIONS.test(p) && existsSync(`${path}.ts`));
  });
}

describe("every repository path the documentation names exists", () => {
  it.each(docFiles)("%s", (doc) => {
    const missing = [...new Set(pathMentions(doc).map((m) => m.token))].filter((t) => !resolves(t));
    expect(missing, `${doc} names paths that do not exist`).toEqual([]);
  });
});

// docs/guarantees.md: in each table's "test" column, a backticked test file followed by quoted
// titles ("…" where the title is shortened, %s where it is a test.each) names tests of that file.

type TitleRef = { row: number; file: string; title: string };

/** The quoted strings of a cell at parenthesis depth 0 (a parenthesis outside quotes is a note). */
function topLevelQuotes(cell: string): { at: number; text: string }[] {
  const out: { at: number; text: string }[] = [];
  let depth = 0;
  let i = 0;
  while (i < cell.length) {
    const c = cell[i];
    if (c === "`") {
      const end = cell.indexOf("`", i + 1);
      i = end < 0 ? cell.length : end + 1;
      continue;
    }
    if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (c === '"') {
      const end = cell.indexOf('"', i + 1);
      if (end < 0) break;
      if (depth === 0) out.push({ at: i, text: cell.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    i++;
  }
  return out;
}

function splitRow(line: string): string[] {
  // Cells split on | outside code spans.
  const cells: string[] = [];
  let cur = "";
  let code = false;
  for (const c of line.trim().replace(/^\||\|$/g, "")) {
    if (c === "`") code = !code;
    if (c === "|" && !code) {
      cells.push(cur);
      cur = "";
    } else cur += c;
  }
  cells.push(cur);
  return cells.map((c) => c.trim());
}

function ledgerTitles(): TitleRef[] {
  const lines = readFileSync(join(root, "docs/guarantees.md"), "utf8").split("\n");
  const refs: TitleRef[] = [];
  let testColumn = -1;
  lines.forEach((line, index) => {
    if (!line.startsWith("|")) {
      testColumn = -1;
      return;
    }
    const cells = splitRow(line);
    if (testColumn < 0) {
      testColumn = cells.findIndex((c) => /^test\b/.test(c));
      return;
    }
    const cell = cells[testColumn];
    if (!cell || /^-+$/.test(cell)) return;
    const files = [...cell.matchAll(/`(test\/[^`]+\.test\.ts)`/g)].map((m) => ({ at: m.index ?? 0, file: m[1] ?? "" }));
    for (const q of topLevelQuotes(cell)) {
      const owner = files.filter((f) => f.at < q.at).at(-1);
      if (owner) refs.push({ row: index + 1, file: owner.file, title: q.text });
    }
  });
  return refs;
}

/** A source with its string concatenations joined (`"a " +\n "b"` → `"a b"`), escapes and spaces undone. */
const normaliseSource = (s: string) => normalise(s.replace(/(["'`])\s*\+\s*\1/g, ""));
const normalise = (s: string) => s.replace(/\\(.)/g, "$1").replace(/\s+/g, " ");

/** The pieces of a quoted title that must appear verbatim in its file. */
function fragments(title: string): string[] {
  return title
    .split(/…|\.\.\.|%[sdifjo#]|\$\w+/)
    .map((f) => f.trim())
    .filter((f) => f.length >= 4);
}

describe("docs/guarantees.md quotes test titles that its test files hold", () => {
  const refs = ledgerTitles();
  it("finds the quoted titles", () => {
    expect(refs.length).toBeGreaterThan(100);
  });
  it("every quoted title is in the file it follows", () => {
    const sources = new Map<string, string>();
    const wrong: string[] = [];
    for (const ref of refs) {
      if (!existsSync(join(root, ref.file))) continue; // reported by the path test
      if (!sources.has(ref.file)) sources.set(ref.file, normaliseSource(readFileSync(join(root, ref.file), "utf8")));
      const source = sources.get(ref.file) ?? "";
      const absent = fragments(ref.title).filter((f) => !source.includes(normalise(f)));
      if (absent.length > 0) wrong.push(`line ${ref.row}: ${ref.file} has no test "${ref.title}"`);
    }
    expect(wrong, `${relative(root, join(root, "docs/guarantees.md"))}: titles not found`).toEqual([]);
  });
});

// docs/guarantees.md's "kept by" column names code as `dir/file.ts` `name`: the name is in the file.
describe("docs/guarantees.md names functions and constants where they are", () => {
  it("every `file` `name` pair of the ledger: name occurs in file", () => {
    const text = readFileSync(join(root, "docs/guarantees.md"), "utf8");
    const wrong: string[] = [];
    for (const m of text.matchAll(/`([\w./-]+\.(?:ts|lua))` `([A-Za-z_][\w]*)`/g)) {
      const [, file, name] = m as unknown as [string, string, string];
      const path = [file, `src/${file}`].map((p) => join(root, p)).find((p) => existsSync(p));
      if (!path) continue; // reported by the path test
      if (!new RegExp(`\\b${name}\\b`).test(readFileSync(path, "utf8"))) wrong.push(`${file} has no ${name}`);
    }
    expect([...new Set(wrong)]).toEqual([]);
  });
});
