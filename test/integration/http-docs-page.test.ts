import { existsSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { type Browser, chromium } from "playwright-core";
import { buildOpenApiDocument } from "../../src/http/openapi.js";
import { ERROR_CODES, PROBLEM_TYPES } from "../../src/http/problem-types.js";
import { newRedis } from "../helpers/redis.js";
import { call, TOKEN_A, useHttpServers } from "../helpers/http-server.js";
import { expectProblem } from "../helpers/problem.js";

/**
 * The documentation page (/docs: Swagger UI) and the problem-type pages: everything they load
 * comes from the server itself, under `Content-Security-Policy: default-src 'self'`. Proved twice:
 * by fetching the page and every asset it names, and by loading it in Chromium and recording every
 * request the page makes (scripts, styles, images, the document, a "Try it out" call) and every
 * CSP violation it reports. Chromium is Debian's (`apt-get install chromium`; .ci/run installs it).
 */

const CHROMIUM = "/usr/bin/chromium";
const CSP = "default-src 'self'; frame-ancestors 'none'";
const ABSOLUTE_URL = /\b(?:https?:)?\/\/[a-z0-9.-]+/i;

let redis: Redis;
const { startServer, closeAll } = useHttpServers(() => redis);
let browser: Browser | undefined;
beforeAll(() => {
  redis = newRedis();
});
afterEach(async () => {
  await closeAll();
});
afterAll(async () => {
  await browser?.close();
  redis.disconnect();
});

describe("the documentation page", () => {
  it(
    "is public, under default-src 'self', and names only assets of its " + "own, each served with the same CSP",
    async () => {
      const s = await startServer();
      const page = await call(s, "/docs", { token: null });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.headers.get("content-security-policy")).toBe(CSP);
      expect(page.text).not.toMatch(ABSOLUTE_URL);
      // No inline script or style: the CSP would refuse them.
      expect(page.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\bstyle=/);
      const named = [...page.text.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(named.sort()).toEqual([
        "docs/docs.css",
        "docs/docs.js",
        "docs/favicon-32x32.png",
        "docs/swagger-ui-bundle.js",
        "docs/swagger-ui.css",
        "openapi.json",
        "problems",
      ]);
      for (const path of named) {
        const asset = await call(s, `/${path}`, { token: null });
        expect(asset.status, path).toBe(200);
        if (path.startsWith("docs/")) expect(asset.headers.get("content-security-policy"), path).toBe(CSP);
      }
      // Swagger UI's stylesheet carries its icons as data: URLs, which default-src 'self' refuses:
      // they are served as files of their own instead.
      const css = (await call(s, "/docs/swagger-ui.css", { token: null })).text;
      const urls = [...css.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]!);
      expect(urls.length).toBeGreaterThan(10);
      for (const url of urls) {
        expect(url, url).toMatch(/^img-\d+\.(svg|png|jpg)$/);
        const image = await call(s, `/docs/${url}`, { token: null });
        expect(image.status, url).toBe(200);
        expect(image.headers.get("content-type"), url).toMatch(/^image\//);
      }
      expectProblem(await call(s, "/docs/package.json", { token: null }), "NOT_FOUND", {
        instance: "/docs/package.json",
      });
      expectProblem(await call(s, "/docs/..%2Fpackage.json", { token: null }), "NOT_FOUND");
    },
  );

  it("serves a page for every problem type (what `type` names) and a list of them", async () => {
    const s = await startServer();
    const list = await call(s, "/problems", { token: null });
    expect(list.status).toBe(200);
    expect(list.headers.get("content-security-policy")).toBe(CSP);
    for (const code of ERROR_CODES) {
      const slug = code.toLowerCase().replaceAll("_", "-");
      expect(list.text).toContain(`href="problems/${slug}"`);
      const page = await call(s, `/problems/${slug}`, { token: null });
      expect(page.status, slug).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.text).toContain(code);
      expect(page.text).toContain(String(PROBLEM_TYPES[code].status));
      expect(page.text).not.toMatch(ABSOLUTE_URL);
    }
    expectProblem(await call(s, "/problems/nope", { token: null }), "NOT_FOUND", { instance: "/problems/nope" });
  });

  it("in Chromium: renders every operation, runs a call with the bearer " +
    "token, and asks nothing of another origin", async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM}: apt-get install -y chromium (.ci/run does)`).toBe(true);
    browser ??= await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        // A name that is not localhost: Swagger UI behaves differently on localhost (it would
        // leave out its validator badge, an image from validator.swagger.io, even if asked).
        "--host-resolver-rules=MAP docs.test 127.0.0.1",
      ],
    });
    const s = await startServer();
    const origin = `http://docs.test:${new URL(s.base).port}`;
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    // Every request of the page and its workers, whatever their origin (none is let through to
    // the network from here: the test only records).
    await context.route("**/*", (route) => {
      requested.push(route.request().url());
      return new URL(route.request().url()).origin === origin ? route.continue() : route.abort();
    });
    const failed: string[] = [];
    page.on("response", (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    // Chrome also reports each failed answer on the console: those are checked through `failed`.
    page.on("console", (m) => {
      if ((m.type() === "error" || m.type() === "warning") && !m.text().startsWith("Failed to load resource:"))
        problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    // Scripts for the page, as text (they run in the browser, not in Node).
    await page.addInitScript({
      content:
        'document.addEventListener("securitypolicyviolation", (e) => ' +
        "console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));",
    });

    await page.goto(`${origin}/docs`);
    const operations = Object.values(buildOpenApiDocument().paths as Record<string, object>).flatMap(Object.keys);
    await page.waitForFunction(`document.querySelectorAll(".opblock").length === ${operations.length}`, undefined, {
      timeout: 30_000,
    });
    expect(await page.locator(".info .title").innerText()).toContain("pc-invitations HTTP API");

    // Authorize with the bearer token, then try GET /v1/acceptances/{id}: a 404 problem, so the
    // token was sent (without it: 401), to this origin.
    await page.locator("button.authorize").first().click();
    await page.locator(".auth-container input").first().fill(TOKEN_A);
    // One form per security scheme (bearer, then the dashboard's admin): the first is the API's.
    await page.locator(".auth-btn-wrapper button.authorize").first().click();
    await page.locator("button.btn-done").first().click();
    const op = page.locator("#operations-acceptances-getAcceptance");
    await op.locator(".opblock-summary").click();
    await op.locator("button.try-out__btn").click();
    await op.locator("input[placeholder='id']").fill("AWS.pacinv-ABCDEFGHIJKLM.x");
    await op.locator("button.execute").click();
    await op.locator(".live-responses-table tbody .response-col_status").first().waitFor({ timeout: 15_000 });
    expect(await op.locator(".live-responses-table tbody .response-col_status").first().innerText()).toContain("404");
    expect(await op.locator(".live-responses-table").innerText()).toContain("/problems/not-found");

    // The problem-type pages, followed from the page's link.
    await page.goto(`${origin}/problems/idempotency-conflict`);
    expect(await page.locator("h1").innerText()).toBe(PROBLEM_TYPES.IDEMPOTENCY_CONFLICT.title);

    const elsewhere = requested.filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin);
    expect(elsewhere).toEqual([]);
    expect(requested).toContain(`${origin}/openapi.json`);
    expect(requested).toContain(`${origin}/v1/acceptances/AWS.pacinv-ABCDEFGHIJKLM.x`);
    expect(requested.filter((url) => url.startsWith("data:"))).toEqual([]);
    expect(problems).toEqual([]);
    // The one error answer: the lookup tried out. No asset was missing.
    expect(failed).toEqual([`404 ${origin}/v1/acceptances/AWS.pacinv-ABCDEFGHIJKLM.x`]);
    await context.close();
  }, 90_000);
});
