/**
 * Where a V8 CPU profile's time went, as JSON: self time by package (node_modules/<pkg>, src/<dir>,
 * node:<module>, or V8's own entries such as "(garbage collector)" and "(idle)") and the heaviest
 * functions, in µs per request when --requests N is given (else in ms overall).
 *
 *   node dist/bench/profile-summary.js [--requests N] [--top K] [--diff OTHER.cpuprofile] FILE.cpuprofile
 *
 * --diff subtracts another profile (e.g. the bare pipeline's) package by package: what our code
 * adds. See bench/README.md, "Finding where the time goes".
 */
import { readFileSync } from "node:fs";

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
}

/** The package a frame's script belongs to: `node_modules/<pkg>`, `src/<dir>`, `node:<module>` or V8's name. */
export function packageOf(frame: { functionName: string; url: string }): string {
  const { url } = frame;
  const pkg = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].pop(); // the innermost, when nested
  if (pkg) return pkg[1]!;
  const src = /\/dist\/(src\/[^/]+|bench)\//.exec(url);
  if (src) return src[1]!;
  if (url.startsWith("node:"))
    return url
      .split("/")
      .slice(0, 2)
      .join("/")
      .replace(/^node:internal\//, "node:");
  if (url === "") return frame.functionName || "(native)";
  return url.split("/").slice(-2).join("/");
}

/** Self time (µs) by package and by function (`name package:line`). */
export function selfTimes(profile: CpuProfile): {
  total: number;
  byPackage: Map<string, number>;
  byFunction: Map<string, number>;
} {
  const byNode = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, us] of byNode) {
    const frame = frames.get(id);
    if (!frame) continue;
    const pkg = packageOf(frame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const fn = `${frame.functionName || "(anonymous)"} ${pkg}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    total += us;
  }
  return { total, byPackage, byFunction };
}

function main(argv: string[]): void {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv.splice(i, 2)[1] : undefined;
  };
  const requests = Number(arg("--requests") ?? 0);
  const top = Number(arg("--top") ?? 25);
  const diffFile = arg("--diff");
  const file = argv[0];
  if (!file) {
    process.stderr.write("usage: profile-summary [--requests N] [--top K] [--diff OTHER.cpuprofile] FILE.cpuprofile\n");
    process.exit(2);
  }
  const load = (f: string) => selfTimes(JSON.parse(readFileSync(f, "utf8")) as CpuProfile);
  const scale =
    requests > 0 ? (us: number) => Math.round((us / requests) * 10) / 10 : (us: number) => Math.round(us / 100) / 10;
  const mine = load(file);
  const other = diffFile ? load(diffFile) : undefined;
  const rows = (m: Map<string, number>, o?: Map<string, number>) =>
    [...new Set([...m.keys(), ...(o?.keys() ?? [])])]
      .map((k) => ({
        name: k,
        self: scale(m.get(k) ?? 0),
        ...(o ? { other: scale(o.get(k) ?? 0), added: scale((m.get(k) ?? 0) - (o.get(k) ?? 0)) } : {}),
      }))
      .sort((a, b) => (o ? b.added! - a.added! : b.self - a.self))
      .slice(0, top);
  const doc = {
    file,
    ...(diffFile ? { diff: diffFile } : {}),
    unit: requests > 0 ? `µs per request (${requests} requests)` : "ms",
    total: scale(mine.total),
    ...(other ? { otherTotal: scale(other.total) } : {}),
    byPackage: rows(mine.byPackage, other?.byPackage),
    byFunction: rows(mine.byFunction, other?.byFunction),
  };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) main(process.argv.slice(2));
