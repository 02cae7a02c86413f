/**
 * Issue 17: each Lua script is a .lua file with its header (KEYS, ARGV where it takes any, what it
 * returns): the file is what Redis runs, and its header is the contract a reader checks it against.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const folders = ["../../src/store/redis/lua/", "../../src/ratelimit/lua/"];
const scripts = folders.flatMap((folder) =>
  readdirSync(new URL(folder, import.meta.url))
    .filter((name) => name.endsWith(".lua"))
    .map((name) => ({
      name: `${folder.slice(6)}${name}`,
      text: readFileSync(new URL(folder + name, import.meta.url), "utf8"),
    })),
);

describe("every Lua script has its header", () => {
  it("finds the scripts", () => expect(scripts.length).toBeGreaterThanOrEqual(10));
  it.each(scripts.map((s) => [s.name, s.text] as const))("%s names its KEYS, ARGV and what it returns", (_, text) => {
    const header = /^(?:#!lua[^\n]*\n)?--\[\[([\s\S]*?)\]\]/.exec(text)?.[1];
    expect(header, "a --[[ … ]] block at the top").toBeDefined();
    expect(header).toMatch(/KEYS\[/);
    const body = text.slice(text.indexOf("]]") + 2);
    if (/ARGV\[/.test(body)) expect(header).toMatch(/ARGV\[/);
    expect(header).toMatch(/returns?\b/i);
  });
});
