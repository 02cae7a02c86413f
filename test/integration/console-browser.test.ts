import { existsSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { Queue } from "bullmq";
import { createDiscovery } from "../../src/app/discovery.js";
import { pacingFromConfig, rateLimiterFromConfig } from "../../src/app/from-config.js";
import { HOLD_ALL_POLICY } from "../../src/schemas/policy.js";
import {
  axeViolations,
  heldFor,
  CHROMIUM,
  consoleServer,
  launchChromium,
  logIn,
  recordedPage,
  screenshot,
} from "../helpers/console.js";

/**
 * The console in Chromium (issue 20): log in, read every page, cancel a waiting request, preview
 * then redrive a failure, change a limit (a wrong value first: its error next to the field), and
 * nothing asked of another origin; axe-core finds no serious or critical violation on any page.
 */
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let p: Pipeline | undefined;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM}: apt-get install -y chromium (.ci/run does)`).toBe(true);
  chromium = await launchChromium();
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await p?.close();
  p = undefined;
});
afterAll(async () => {
  await chromium?.close();
});

describe("the console in Chromium", () => {
  it("an operator logs in, cancels, previews and redrives, changes a limit; all from this origin", async () => {
    p = await startPipeline({ label: "console" });
    // A failure to redrive: an invitation AWS does not know.
    const worker = await p.startWorker();
    const failed = await p.producer.enqueue({ catalog: "AWS", identifier: "pacinv-NOTFOUND00001" });
    await waitForOutcomes(p.redis, p.prefix, 1);
    await worker.shutdown("test: the next request stays waiting");
    // A request to cancel: waiting, no worker runs.
    const waiting = await p.producer.enqueue({ catalog: "AWS", identifier: "pacinv-WAITING000001" });
    const s = await consoleServer(p);
    closers.push(s.close);
    const { page, requested, problems, context } = await recordedPage(chromium!.browser, s.base);
    closers.push(() => context.close());

    // Not logged in: the login form, its fields labelled.
    await page.goto(`${s.base}/requests`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "login");
    // A wrong password: said so, nothing more.
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent(), { timeout: 20_000 })
      .toContain("Wrong username or password");
    await logIn(page, s.base, "alice");
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === "pci_session")).toMatchObject({ httpOnly: true, sameSite: "Strict" });

    // Overview: the status read model.
    expect(await page.locator("h1").textContent()).toBe("Overview");
    const overview = await page.locator("dl.figures").textContent();
    for (const figure of [
      "Backlog",
      "Oldest waiting",
      "Rate",
      "Throttles",
      "Time to drain",
      "Workers alive",
      "Fault pause",
      "Outcomes",
    ])
      expect(overview).toContain(figure);
    expect(overview).toContain(waiting.jobId);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "overview");

    // Requests: search by state, then cancel the waiting one from its row.
    await page.getByRole("link", { name: "Requests" }).click();
    await page.getByLabel("State").selectOption("waiting");
    await page.getByRole("button", { name: "Search" }).click();
    const row = page.getByRole("row").filter({ hasText: waiting.jobId });
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "requests");
    // A search that breaks a rule: the error next to its field.
    await page.getByLabel("Since").fill("yesterday");
    await page.getByRole("button", { name: "Search" }).click();
    expect(await page.locator("#q-since-error").textContent()).toContain("must be a whole number and a unit");
    expect(await page.getByLabel("Since").getAttribute("aria-invalid")).toBe("true");
    await page.goto(`${s.base}/requests?state=waiting`);
    await page.getByRole("button", { name: `Cancel ${waiting.jobId}` }).click();
    await expect.poll(() => page.getByRole("status").textContent(), { timeout: 20_000 }).toContain("Canceled by alice");
    expect(await page.locator("ol.timeline").textContent()).toContain("outcome canceled");
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "request-timeline");

    // Failures: preview first (nothing written), then redrive.
    await page.getByRole("link", { name: "Failures" }).click();
    expect(await page.locator("table").textContent()).toContain(failed.jobId);
    await page.getByLabel("Error names").fill("ResourceNotFoundException");
    await page.getByRole("button", { name: "Preview the redrive" }).click();
    await expect
      .poll(() => page.getByRole("status").textContent(), { timeout: 20_000 })
      .toContain("would be redriven: 1");
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "failures-preview");
    await page.getByRole("button", { name: "Redrive 1 request(s)" }).click();
    await expect.poll(() => page.getByRole("status").textContent(), { timeout: 20_000 }).toContain("redriven: 1");
    expect(await page.getByRole("row").filter({ hasText: failed.jobId }).textContent()).toContain("redriven →");

    // Limits: a wrong value is refused next to its field; a right one is applied.
    await page.getByRole("link", { name: "Limits" }).click();
    await page.getByLabel("Burst").fill("-3");
    await page.getByRole("button", { name: "Change the limit" }).click();
    expect(await page.locator("#l-burst-error").textContent()).toContain("must be");
    await page.getByLabel("Burst").fill("7");
    await page.getByRole("button", { name: "Change the limit" }).click();
    await expect.poll(() => page.getByRole("status").textContent(), { timeout: 20_000 }).toContain("changed");
    expect(await page.locator("table").first().textContent()).toMatch(/burst\s*7/);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "limits");

    // Schedules: none here (discover --every sets one).
    await page.getByRole("link", { name: "Schedules" }).click();
    expect(await page.getByRole("status").textContent()).toContain("No discovery schedule");
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "schedules");

    // bull-board behind the same login, its fonts not asked of Google.
    await page.getByRole("link", { name: "Queues (bull-board)" }).click();
    await page.waitForLoadState("networkidle");
    await screenshot(page, "bull-board");

    // Logout ends the session.
    await page.goto(`${s.base}/`);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.goto(`${s.base}/`);
    expect(new URL(page.url()).pathname).toBe("/login");

    const elsewhere = requested.filter((url) => new URL(url).origin !== s.base);
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
  }, 180_000);
});

describe("held invitations in Chromium", () => {
  it("an operator accepts one and rejects one from their rows, then two in " +
    "bulk; the outcomes carry decidedBy", async () => {
    p = await startPipeline({ label: "console-held" });
    const pl = p;
    const held = heldFor(pl);
    closers.push(held.close);
    const ids = pl.emulator.seedInvitations(4).map((i) => i.identifier);
    const run = createDiscovery({
      api: pl.api,
      pacing: pacingFromConfig(pl.config, rateLimiterFromConfig(pl.config, pl.redis)),
      producer: pl.producer,
      held: held.deps,
    });
    const summary = await run({ catalogs: ["AWS"], policy: HOLD_ALL_POLICY, dryRun: false });
    expect(summary.held).toBe(4);
    const s = await consoleServer(pl, {}, held.port);
    closers.push(s.close);
    const { page, requested, problems, context } = await recordedPage(chromium!.browser, s.base);
    closers.push(() => context.close());

    // A viewer sees the list, without buttons; a change sent anyway is refused (403).
    await logIn(page, s.base, "victor");
    await page.getByRole("link", { name: "Held invitations" }).click();
    expect(await page.getByRole("row").filter({ hasText: ids[0]! }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Accept" }).count()).toBe(0);
    const csrf = await page.locator("input[name=_csrf]").first().inputValue();
    const viewerAnswer = await page.evaluate(
      async ([token, id]) =>
        (
          await fetch("/held/decide", {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ _csrf: token ?? "", id: `AWS.${id}`, action: "accept" }),
          })
        ).status,
      [csrf, ids[0]] as const,
    );
    expect(viewerAnswer).toBe(403);
    await page.getByRole("button", { name: "Log out" }).click();

    await logIn(page, s.base, "alice");
    await page.getByRole("link", { name: "Held invitations" }).click();
    // Sorted by expiry, each row with its countdown.
    const expiries = await page
      .locator("#held time[data-countdown]")
      .evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute("datetime") ?? "")));
    expect(expiries).toEqual([...expiries].sort((a, b) => a - b));
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "held");

    // Accept the first from its row; reject the second with a reason.
    const row0 = page.getByRole("row").filter({ hasText: ids[0]! });
    await row0.getByRole("button", { name: "Accept" }).click();
    await expect
      .poll(() => page.getByRole("status").first().textContent(), { timeout: 20_000 })
      .toContain("1 of 1 decided");
    const row1 = page.getByRole("row").filter({ hasText: ids[1]! });
    await row1.getByRole("textbox").fill("not a partner of ours");
    await row1.getByRole("button", { name: "Reject" }).click();
    await expect.poll(() => page.locator("table").first().textContent(), { timeout: 20_000 }).toContain(ids[1]!);
    // The other two in bulk: selected, rejected.
    await page.getByRole("checkbox", { name: `Select AWS.${ids[2]}` }).check();
    await page.getByRole("checkbox", { name: `Select AWS.${ids[3]}` }).check();
    await page.getByLabel("Reason (reject)").fill("bulk");
    await page.getByRole("button", { name: "Reject selected" }).click();
    await expect
      .poll(() => page.getByRole("status").first().textContent(), { timeout: 20_000 })
      .toContain("2 of 2 decided");
    await screenshot(page, "held-decided");
    expect(await page.locator("#held").count()).toBe(0);

    // A worker runs them: the outcomes say who decided.
    await pl.startWorker();
    // The outcomes queue carries the held notices too: the outcomes are the events with a requestId.
    const queue = new Queue("invitation-outcomes", { connection: pl.redis, prefix: pl.prefix });
    closers.push(() => queue.close());
    const outcomes = await waitFor(
      async () => {
        const jobs = await queue.getJobs(["waiting", "active", "completed", "failed", "delayed"], 0, -1);
        const events = jobs
          .map((j) => j.data as Record<string, unknown>)
          .filter((d) => typeof d.requestId === "string");
        return events.length >= 4 ? events : undefined;
      },
      60_000,
      "4 outcomes",
    );
    const byIdentifier = new Map(outcomes.map((o) => [o.identifier, o]));
    expect(byIdentifier.get(ids[0]!)).toMatchObject({ type: "accepted", decidedBy: "alice" });
    expect(byIdentifier.get(ids[1]!)).toMatchObject({
      type: "rejected",
      decidedBy: "alice",
      rejectReason: "not a partner of ours",
    });
    expect(byIdentifier.get(ids[3]!)).toMatchObject({ type: "rejected", decidedBy: "alice", rejectReason: "bulk" });
    // And the console shows it: the request's timeline ends with its outcome.
    const requestId = String(byIdentifier.get(ids[0]!)!.requestId);
    await page.goto(`${s.base}/requests/${encodeURIComponent(requestId)}`);
    expect(await page.locator("ol.timeline").textContent()).toContain("outcome accepted (decided by alice)");

    expect(requested.filter((url) => new URL(url).origin !== s.base)).toEqual([]);
    expect(problems).toEqual([]);
  }, 180_000);
});
