import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createRequestControl } from "../../src/app/request-control.js";
import { accessStoreFromConfig, addUser } from "../../src/app/access.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import type { Pipeline } from "./pipeline.js";
import type { HeldDeps } from "../../src/app/held.js";
import { createHeldDesk } from "../../src/app/held-desk.js";
import type { ConsoleHeldPort } from "../../src/http/console/routes.js";

/** The held list and decide() on a pipeline's Redis (what `serve` gives the HTTP API and the console). */
export function heldFor(p: Pipeline): { deps: HeldDeps; port: ConsoleHeldPort; close(): Promise<void> } {
  const desk = createHeldDesk(p.config, p.redis, p.producer, { api: p.api });
  return { deps: desk.deps, port: desk, close: () => desk.close() };
}

/**
 * The console in a real browser: Debian's Chromium driven by playwright-core, a fresh profile per
 * launch, every request the page makes recorded (and any to another origin refused), and axe-core
 * injected from node_modules for the accessibility check.
 */
export const CHROMIUM = "/usr/bin/chromium";
export const PASSWORD = "console-password-0001";
export const TOKEN = "console-ingest-token-0001";

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  // playwright's launch() gives the browser a fresh profile of its own (a temporary
  // --user-data-dir, removed on close; it refuses one passed in args), with TMPDIR under ours.
  const profile = mkdtempSync(join(tmpdir(), "pci-chromium-"));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    env: { ...process.env, TMPDIR: profile },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The HTTP server of a pipeline, with request control and two people: alice (operator), victor (viewer). */
export async function consoleServer(
  p: Pipeline,
  env: Record<string, unknown> = {},
  held?: ConsoleHeldPort,
  addPeople = true,
) {
  const config = loadConfig({}, { ...p.config, HTTP_AUTH_TOKENS: TOKEN, ...env });
  const requestControl = createRequestControl(config, p.redis, p.producer, { api: p.api });
  const app = await buildHttpServer({
    producer: p.producer,
    requestControl,
    redis: p.redis,
    config,
    logger: createLogger({ level: "silent" }),
    ...(held ? { held } : {}),
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const access = accessStoreFromConfig(config, p.redis);
  if (addPeople) {
    await addUser(access, { name: "alice", role: "operator", password: PASSWORD });
    await addUser(access, { name: "victor", role: "viewer", password: PASSWORD });
  }
  return {
    base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    access,
    config,
    async close() {
      await app.close();
      await requestControl.close();
    },
  };
}

export interface Recorded {
  context: BrowserContext;
  page: Page;
  /** Every URL the page asked for. */
  requested: string[];
  /** Console errors, CSP violations, page errors. */
  problems: string[];
}

export async function recordedPage(browser: Browser, origin: string): Promise<Recorded> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requested: string[] = [];
  const problems: string[] = [];
  await context.route("**/*", (route) => {
    requested.push(route.request().url());
    return new URL(route.request().url()).origin === origin ? route.continue() : route.abort();
  });
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource:")) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  await page.addInitScript({
    content:
      'document.addEventListener("securitypolicyviolation", (e) => ' +
      'console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI));',
  });
  return { context, page, requested, problems };
}

export async function logIn(page: Page, base: string, user: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${base}/`);
}

const AXE = readFileSync(new URL("../../node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

/** axe-core's serious and critical violations on the page as it is now: "id: target" each. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Injected through the DevTools protocol (not a <script>): the page's CSP does not apply to it.
  await page.evaluate(AXE);
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as {
    violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown[] }> }>;
  };
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
}

/** Screenshots go to docs/console/ only when CONSOLE_SCREENSHOTS=1 (they are committed, not rewritten each run). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.CONSOLE_SCREENSHOTS !== "1") return;
  await page.screenshot({ path: new URL(`../../docs/console/${name}.png`, import.meta.url).pathname, fullPage: true });
}
