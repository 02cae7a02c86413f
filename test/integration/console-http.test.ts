import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { consoleServer, PASSWORD, TOKEN } from "../helpers/console.js";
import { accessStoreFromConfig, addToken, removeUser } from "../../src/app/access.js";

/**
 * The console's access rules over plain HTTP (the browser test shows the pages): a session cookie
 * with the right attributes, 403 for a change without its CSRF token or from another origin, 403
 * for a viewer, HTTP_AUTH_TOKENS refused, an admin token admitted, a removed person logged out.
 */
let p: Pipeline | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await p?.close();
  p = undefined;
});

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
  redirect: "manual" as const,
});

async function login(base: string, user: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/login`, {
    ...form({ username: user, password: PASSWORD, next: "/" }),
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  });
  expect(res.status).toBe(303);
  const cookie = res.headers.get("set-cookie") ?? "";
  const page = await fetch(`${base}/limits`, { headers: { cookie: cookie.split(";")[0]! } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
  return { setCookie: cookie, cookie: cookie.split(";")[0]!, csrf };
}

describe("the console's access rules", () => {
  it("session cookie, CSRF, roles, origins, tokens", async () => {
    p = await startPipeline({ label: "console-http" });
    const s = await consoleServer(p);
    closers.push(s.close);
    const alice = await login(s.base, "alice");
    expect(alice.setCookie).toMatch(
      /^pci_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    expect(alice.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const change = (who: { cookie: string }, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${s.base}/limits`, {
        ...form(fields),
        headers: { ...form(fields).headers, cookie: who.cookie, ...headers },
      });

    // A change without the CSRF token, with another session's, or from another origin: 403, nothing changed.
    expect((await change(alice, { burst: "9" })).status).toBe(403);
    expect((await change(alice, { burst: "9", _csrf: "x".repeat(43) })).status).toBe(403);
    expect((await change(alice, { burst: "9", _csrf: alice.csrf }, { origin: "https://evil.example" })).status).toBe(
      403,
    );
    expect((await change(alice, { burst: "9", _csrf: alice.csrf }, { "sec-fetch-site": "cross-site" })).status).toBe(
      403,
    );
    expect(await (await fetch(`${s.base}/limits`, { headers: { cookie: alice.cookie } })).text()).not.toMatch(
      /burst<\/th><td>9</,
    );
    // With it: applied (303 back to the page).
    expect((await change(alice, { burst: "9", _csrf: alice.csrf })).status).toBe(303);
    expect(await (await fetch(`${s.base}/limits`, { headers: { cookie: alice.cookie } })).text()).toMatch(
      /burst<\/th><td>9</,
    );
    // A viewer: reads, may not change (403), even with its CSRF token.
    const victor = await login(s.base, "victor");
    expect((await fetch(`${s.base}/`, { headers: { cookie: victor.cookie } })).status).toBe(200);
    expect((await change(victor, { burst: "5", _csrf: victor.csrf })).status).toBe(403);

    // Not logged in: pages redirect to the login form, changes are 401.
    const anonymous = await fetch(`${s.base}/held`, { redirect: "manual" });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/login?next=%2Fheld");
    expect((await fetch(`${s.base}/limits`, form({ burst: "5" }))).status).toBe(401);
    // An HTTP_AUTH_TOKENS token opens neither the console nor the dashboard; an admin token does.
    const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` }, redirect: "manual" as const });
    expect((await fetch(`${s.base}/`, bearer(TOKEN))).status).toBe(403);
    expect((await fetch(`${s.base}/admin/queues/api/queues`, bearer(TOKEN))).status).toBe(403);
    const admin = await addToken(s.access, { name: "ops", scopes: ["admin"] });
    expect((await fetch(`${s.base}/`, bearer(admin.token))).status).toBe(200);
    // bull-board behind the same login: a person's session opens it, without Google's fonts.
    const board = await fetch(`${s.base}/admin/queues`, { headers: { cookie: victor.cookie } });
    expect(board.status).toBe(200);
    expect(await board.text()).not.toContain("fonts.googleapis.com");
    expect(
      (await fetch(`${s.base}/admin/queues`, { headers: { accept: "text/html" }, redirect: "manual" })).status,
    ).toBe(303);
    // Every page under default-src 'self'.
    expect((await fetch(`${s.base}/login`)).headers.get("content-security-policy")).toContain("default-src 'self'");

    // A person removed is logged out at once.
    await removeUser(accessStoreFromConfig(s.config, p.redis), "victor");
    expect((await fetch(`${s.base}/`, { headers: { cookie: victor.cookie }, redirect: "manual" })).status).toBe(303);
    // Logout ends the session server-side (the old cookie opens nothing).
    expect(
      (
        await fetch(`${s.base}/logout`, {
          ...form({ _csrf: alice.csrf }),
          headers: { ...form({}).headers, cookie: alice.cookie },
        })
      ).status,
    ).toBe(303);
    expect((await fetch(`${s.base}/`, { headers: { cookie: alice.cookie }, redirect: "manual" })).status).toBe(303);
  }, 120_000);

  it("behind a trusted TLS proxy the cookie is Secure and __Host- named; " +
    "untrusted, X-Forwarded-Proto is ignored", async () => {
    p = await startPipeline({ label: "console-tls" });
    const trusted = await consoleServer(p, { HTTP_TRUST_PROXY: true });
    closers.push(trusted.close);
    const viaProxy = await login(trusted.base, "alice", { "x-forwarded-proto": "https" });
    expect(viaProxy.setCookie).toMatch(/^__Host-pci_session=.*; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    const untrusted = await consoleServer(p, {}, undefined, false);
    closers.push(untrusted.close);
    const direct = await login(untrusted.base, "alice", { "x-forwarded-proto": "https" });
    expect(direct.setCookie).not.toContain("Secure");
  }, 120_000);
});
