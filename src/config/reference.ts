import { configSchema } from "../schemas/config.js";

/** One environment variable as docs/configuration.md lists it. */
export interface ConfigVariable {
  name: string;
  /** The section it is under in src/schemas/config.ts (its `// Heading.` comment), or "General". */
  section: string;
  /** Its default as configSchema gives it, else the text of its @defaultValue, else "(none)". */
  defaultValue: string;
  description: string;
}

/**
 * The variables of configSchema with the documentation written on them in `source` (the text of
 * src/schemas/config.ts: each key's `/** … *\/` comment, its `@defaultValue`, the `// …` headings).
 * A key without a comment is still listed (with an empty description): every variable has a row.
 */
export function configVariables(source: string): ConfigVariable[] {
  const start = source.indexOf("export const configSchema");
  const body = source.slice(start);
  const defaults = configSchema.parse({}) as Record<string, unknown>;
  const found = new Map<string, { section: string; comment: string }>();
  let section = "General";
  const re = /^ {4}\/\/ (.+)$|^ {4}(\/\*\*[\s\S]*?\*\/)\s*\n {4}([A-Z][A-Z0-9_]*):|^ {4}([A-Z][A-Z0-9_]*):/gm;
  for (const m of body.matchAll(re)) {
    if (m[1] !== undefined) {
      // A heading is the first line of a `//` comment, up to its first colon: "Webhooks (…)".
      const previousLine = body.slice(0, m.index).split("\n").at(-2) ?? "";
      if (!previousLine.startsWith("    // ")) section = m[1].split(": ")[0]!.replace(/[.:]$/, "");
    } else {
      const name = (m[3] ?? m[4])!;
      if (!found.has(name)) found.set(name, { section, comment: m[2] ?? "" });
    }
  }
  return Object.keys(configSchema.shape).map((name) => {
    const { section: s, comment } = found.get(name) ?? { section: "General", comment: "" };
    const text = comment
      .replace(/^\/\*\*|\*\/$/g, "")
      .split("\n")
      .map((l) => l.replace(/^\s*\* ?/, "").trim())
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
    const [description, documentedDefault] = text.split(/\s*@defaultValue\s*/);
    const value = defaults[name];
    return {
      name,
      section: s,
      defaultValue:
        value !== undefined
          ? `\`${Array.isArray(value) ? value.join(",") : String(value)}\``
          : documentedDefault
            ? documentedDefault.trim()
            : "(none)",
      description: (description ?? "").trim(),
    };
  });
}

/** docs/configuration.md: a table per section, generated (npm run docs:generate); a test fails when it drifts. */
export function configurationReference(source: string): string {
  const variables = configVariables(source);
  const sections = [...new Set(variables.map((v) => v.section))];
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const parts = [
    "# Configuration",
    "",
    "<!-- Generated from src/schemas/config.ts by `npm run docs:generate`; do not edit by hand. -->",
    "",
    "Every setting is an environment variable, validated when a command starts: a bad value stops it",
    "with exit 2 and one line per variable naming the rule (`pc-invitations: invalid configuration:`).",
    `${variables.length} variables.`,
  ];
  for (const section of sections) {
    parts.push("", `## ${section}`, "", "| Variable | Default | What it does |", "|---|---|---|");
    for (const v of variables.filter((x) => x.section === section))
      parts.push(`| \`${v.name}\` | ${cell(v.defaultValue)} | ${cell(v.description)} |`);
  }
  return `${parts.join("\n")}\n`;
}
