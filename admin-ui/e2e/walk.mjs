// The portal walked as a person uses it, in Debian's Chromium driven by Playwright, against
// a real `tollgate serve` on PostgreSQL that tests/it/portal.rs started. That test restarts
// the server when this script prints `RESTART` and answers `RESTARTED` on stdin; it checks
// the database afterwards. Every page is checked with axe (no serious or critical
// violation) and photographed at 1280 px and 390 px into $SCREENSHOTS.
//
// Env: BASE (http://127.0.0.1:PORT), OWNER_EMAIL, OWNER_PASSWORD, OTP_EMAIL, OTP_PASSWORD,
// IMAGE (a PNG that reads "hello"), OCR_CALLS, HOOK_URL (a webhook URL nothing listens on),
// SCREENSHOTS.
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import { createInterface } from "node:readline";
import { mkdirSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`walk.mjs needs ${name}`);
  return v;
};
const BASE = env("BASE");
const SHOTS = env("SCREENSHOTS");
mkdirSync(SHOTS, { recursive: true });
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function restartServer() {
  process.stdout.write("RESTART\n");
  const { value } = await lines.next();
  assert.equal(value, "RESTARTED", "the test did not restart the server");
}

const step = (name) => process.stderr.write(`walk: ${name}\n`);

/** Polls `check` for up to 15 s. */
async function until(check, what) {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** axe on the current page: no serious or critical violation. */
async function accessible(page, name) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `axe violations on ${name}`,
  );
}

/** Screenshots of the current page at both widths, and axe at both. */
async function photograph(page, name) {
  for (const [label, width] of [
    ["1280", 1280],
    ["390", 390],
  ]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(100);
    await accessible(page, `${name} at ${width}px`);
    // Usable at this width: nothing sticks out sideways (wide tables scroll in their box).
    const { overflow, wide } = await page.evaluate((width) => {
      const wide = [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > width + 0.5 && !el.closest(".table-wrap, .overlay"))
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)}px)`);
      return { overflow: document.documentElement.scrollWidth, wide };
    }, width);
    assert.ok(overflow <= width, `${name} is ${overflow}px wide at ${width}px: ${wide.join(", ")}`);
    await page.screenshot({ path: `${SHOTS}/${name}-${label}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** Calls the API from the page's own context (same origin, as a program on it would). */
async function fromPage(page, path, init) {
  return page.evaluate(
    async ({ path, init }) => {
      const r = await fetch(path, init);
      let body = null;
      try {
        body = await r.json();
      } catch {
        body = null;
      }
      return { status: r.status, body };
    },
    { path, init },
  );
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  // The page must run under its CSP and without uncaught errors.
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content.Security.Policy|Refused to/i.test(m.text())) pageErrors.push(m.text());
  });

  step("a deep link, signed out, is the app's sign-in");
  const deep = await page.goto(`${BASE}/admin/keys`);
  assert.equal(deep.status(), 200);
  assert.match(deep.headers()["content-type"], /text\/html/);
  await page.getByRole("heading", { name: "Tollgate portal", exact: true }).waitFor();
  await photograph(page, "sign-in");

  step("a wrong password is refused on the page");
  await page.getByLabel("Email", { exact: true }).fill(env("OWNER_EMAIL"));
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "invalid email or password" }).waitFor();

  step("sign in; the deep link's page shows");
  await page.getByLabel("Password").fill(env("OWNER_PASSWORD"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "API keys", exact: true }).waitFor();

  step("refresh: still signed in");
  await page.reload();
  await page.getByRole("heading", { name: "API keys", exact: true }).waitFor();

  step("restart the server: still signed in");
  await restartServer();
  await page.reload();
  await page.getByRole("heading", { name: "API keys", exact: true }).waitFor();
  await page.getByText("No API keys yet").or(page.locator("table")).first().waitFor();
  await photograph(page, "keys-empty");

  step("create a key; it is shown once and works on /v1/me from the page");
  await page.getByLabel("Name").fill("browser key");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-key").textContent())?.trim() ?? "";
  assert.match(key, /^tg_live_[0-9A-Za-z]+$/);
  await photograph(page, "keys-created");
  const me = await fromPage(page, "/v1/me", { headers: { "X-API-Key": key } });
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.deepEqual(me.body.scopes, ["ocr:read"]);

  step("real OCR calls with the key, from the page");
  const image = Array.from(readFileSync(env("IMAGE")));
  const calls = Number(env("OCR_CALLS"));
  for (let i = 0; i < calls; i++) {
    const r = await page.evaluate(
      async ({ key, image }) => {
        const resp = await fetch("/v1/ocr", {
          method: "POST",
          headers: { "X-API-Key": key, "Content-Type": "image/png" },
          body: new Uint8Array(image),
        });
        return { status: resp.status, body: await resp.json() };
      },
      { key, image },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.text.toLowerCase(), /hello/);
  }

  step("the playground reads an image with the key and draws its boxes");
  await page.getByRole("button", { name: "I have stored it" }).click();
  await page.getByRole("link", { name: "OCR playground" }).click();
  await page.getByRole("heading", { name: "OCR playground", exact: true }).waitFor();
  await photograph(page, "playground-empty");
  await page.getByLabel("API key (with ocr:read)").fill(key);
  await page.getByLabel(/^Image/).setInputFiles(env("IMAGE"));
  await page.getByRole("button", { name: "Read text" }).click();
  await page.getByTestId("ocr-text").filter({ hasText: /hello/i }).waitFor();
  assert.ok((await page.getByTestId("ocr-boxes").locator("polygon").count()) >= 1, "boxes drawn");
  await photograph(page, "playground");
  step("a wrong key in the playground is the key's error, not a sign-out");
  await page.getByLabel("API key (with ocr:read)").fill("tg_live_wrong");
  await page.getByRole("button", { name: "Read text" }).click();
  await page.getByRole("alert").waitFor();
  await page.getByRole("heading", { name: "OCR playground", exact: true }).waitFor();

  step("a webhook endpoint for revoked keys; its secret is shown once");
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.getByRole("heading", { name: "Webhooks", exact: true }).waitFor();
  await page.getByText("No endpoints.").waitFor();
  await photograph(page, "webhooks-empty");
  await page.getByLabel("URL (https)").fill(env("HOOK_URL"));
  await page.getByLabel("invoice.finalized").uncheck();
  await page.getByLabel("api_key.revoked").check();
  await page.getByRole("button", { name: "Add endpoint" }).click();
  assert.match((await page.getByTestId("new-webhook-secret").textContent()) ?? "", /^whsec_/);

  step("revoke the key; it is refused");
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByRole("heading", { name: "API keys", exact: true }).waitFor();
  await page.getByRole("button", { name: "Revoke key browser key" }).click();
  await page.locator("tr", { hasText: "browser key" }).getByText("revoked").waitFor();
  const refused = await fromPage(page, "/v1/me", { headers: { "X-API-Key": key } });
  assert.equal(refused.status, 401);
  assert.equal(refused.body.code, "invalid_token");

  step("the revocation was delivered to the endpoint (it refuses), and can be replayed");
  await page.getByRole("link", { name: "Webhooks" }).click();
  const endpoints = await fromPage(page, "/v1/webhooks/endpoints");
  assert.equal(endpoints.body.length, 1);
  const deliveriesPath = `/v1/webhooks/endpoints/${endpoints.body[0].id}/deliveries`;
  // The worker's first attempt (to a closed port: it fails) is what the page then shows.
  await until(async () => {
    const d = await fromPage(page, deliveriesPath);
    return d.body.deliveries.some((x) => x.event_type === "api_key.revoked" && x.attempts >= 1);
  }, "the worker attempted the delivery of api_key.revoked");
  await page.getByRole("button", { name: "Deliveries", exact: true }).click();
  const row = page.locator("tr", { hasText: "api_key.revoked" });
  await row.waitFor();
  await row.getByRole("button", { name: "Replay" }).click();
  // The replay is queued and attempted again: an attempt marked as a replay appears.
  await until(async () => {
    const d = await fromPage(page, deliveriesPath);
    return d.body.deliveries.some((x) => x.log.some((a) => a.replay));
  }, "the replay was attempted");
  assert.equal(await page.getByRole("alert").count(), 0, "no error on the page");
  await photograph(page, "webhooks");

  step("an OAuth2 client: its secret, shown once, gets a token from the page");
  await page.getByRole("link", { name: "OAuth2 clients" }).click();
  await page.getByRole("heading", { name: "OAuth2 clients", exact: true }).waitFor();
  await page.getByLabel("Name").fill("browser client");
  await page.getByRole("button", { name: "Create client" }).click();
  const secret = (await page.getByTestId("new-client-secret").textContent())?.trim() ?? "";
  const clientId = (await page.locator("tr", { hasText: "browser client" }).locator("code").first().textContent())?.trim() ?? "";
  const token = await page.evaluate(
    async ({ clientId, secret }) => {
      const r = await fetch("/oauth/token", {
        method: "POST",
        headers: { Authorization: "Basic " + btoa(`${clientId}:${secret}`), "Content-Type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials&scope=ocr%3Aread",
      });
      return { status: r.status, body: await r.json() };
    },
    { clientId, secret },
  );
  assert.equal(token.status, 200, JSON.stringify(token.body));
  assert.equal(token.body.token_type, "Bearer");
  await photograph(page, "clients");

  step("members: an owner adds one, with a one-time password shown once");
  await page.getByRole("link", { name: "Members" }).click();
  await page.getByRole("heading", { name: "Members", exact: true }).waitFor();
  const added = `added-${Date.now()}@example.com`;
  await page.getByLabel("Email").fill(added);
  await page.getByRole("button", { name: "Add member" }).click();
  assert.ok(((await page.getByTestId("new-member-password").textContent()) ?? "").length >= 12);
  await page.locator("tr", { hasText: added }).getByText("one-time, not yet changed").waitFor();
  await photograph(page, "members");

  step("the dashboard shows the calls, the plan and the draft invoice");
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.getByRole("heading", { name: "Dashboard", exact: true }).waitFor();
  // The page's calls and the playground's one.
  await page.getByTestId("units-used").filter({ hasText: String(calls + 1) }).waitFor();
  assert.ok((await page.getByTestId("usage-chart").locator("canvas").count()) >= 1, "the chart drew");
  const draft = (await page.getByTestId("draft-total").textContent()) ?? "";
  assert.match(draft, /\$/);
  await photograph(page, "dashboard");

  step("the draft invoice, line by line, totals what the dashboard said");
  await page.getByRole("link", { name: "Invoices" }).click();
  await page.getByRole("heading", { name: "Invoices", exact: true }).waitFor();
  assert.equal((await page.getByTestId("invoice-total").textContent())?.trim(), draft.trim());
  await page.getByText("No finalized invoices yet.").waitFor();
  await photograph(page, "invoices");

  step("the audit log: filtered to the revocation, then exported");
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByRole("heading", { name: "Audit log", exact: true }).waitFor();
  await page.getByLabel("Action (exact, e.g. key.created)").fill("key.revoked");
  await page.getByRole("button", { name: "Apply filter" }).click();
  await until(async () => (await page.locator("tbody tr").count()) === 1, "the filtered page has the one revocation");
  assert.match((await page.locator("tbody tr").textContent()) ?? "", /key\.revoked/);
  await photograph(page, "audit");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Export NDJSON" }).click(),
  ]);
  const exported = readFileSync(await download.path(), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(exported.some((e) => e.action === "key.revoked"), "the export has the revocation");
  assert.ok(exported.some((e) => e.action === "audit.exported"), "the export records itself");
  assert.ok(exported.every((e) => /^[0-9a-f]{64}$/.test(e.hash)), "every row carries its hash");
  for (let i = 1; i < exported.length; i++) assert.equal(exported[i].prev_hash, exported[i - 1].hash);

  step("an unknown portal page says so, inside the app");
  await page.goto(`${BASE}/admin/no-such-page`);
  await page.getByRole("heading", { name: "Page not found", exact: true }).waitFor();

  assert.deepEqual(pageErrors, [], "errors in the page");

  step("sign out");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You signed out.").waitFor();
  await page.reload();
  await page.getByRole("button", { name: "Sign in" }).waitFor();

  step("a one-time password must be changed first; the API refuses anything else");
  const otp = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p2 = await otp.newPage();
  p2.on("pageerror", (e) => pageErrors.push(String(e)));
  p2.on("console", (m) => {
    if (m.type() === "error" && /Content.Security.Policy|Refused to/i.test(m.text())) pageErrors.push(m.text());
  });
  await p2.goto(`${BASE}/admin/`);
  await p2.getByLabel("Email", { exact: true }).fill(env("OTP_EMAIL"));
  await p2.getByLabel("Password").fill(env("OTP_PASSWORD"));
  await p2.getByRole("button", { name: "Sign in" }).click();
  await p2.getByRole("heading", { name: "Choose your password", exact: true }).waitFor();
  assert.equal(await p2.getByRole("link", { name: "API keys" }).count(), 0);
  const blocked = await fromPage(p2, "/v1/keys");
  assert.equal(blocked.status, 403);
  assert.equal(blocked.body.code, "password_change_required");
  await photograph(p2, "password-required");
  await p2.getByLabel("One-time password").fill(env("OTP_PASSWORD"));
  await p2.getByLabel("New password (at least 12 characters)").fill("a brand new passphrase");
  await p2.getByLabel("New password again").fill("a brand new passphrase");
  await p2.getByRole("button", { name: "Change password" }).click();
  await p2.getByRole("heading", { name: "Dashboard", exact: true }).waitFor();
  const keys = await fromPage(p2, "/v1/keys");
  assert.equal(keys.status, 200);
  step("a viewer sees keys but no create form");
  await p2.getByRole("link", { name: "API keys" }).click();
  await p2.getByRole("heading", { name: "API keys", exact: true }).waitFor();
  assert.equal(await p2.getByRole("button", { name: "Create key" }).count(), 0);
  assert.equal(await p2.getByRole("link", { name: "Audit log" }).count(), 0);
  step("and the API refuses a viewer's change whatever the page shows");
  const csrf = (await fromPage(p2, "/v1/session")).body.csrf_token;
  const write = await fromPage(p2, "/v1/keys", {
    method: "POST",
    headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "sneaky", scopes: ["ocr:read"] }),
  });
  assert.equal(write.status, 403);
  assert.equal(write.body.code, "forbidden");
  await p2.goto(`${BASE}/admin/audit`);
  await p2.getByText("cannot open this page").waitFor();
  assert.deepEqual(pageErrors, [], "errors in the viewer's page");
  await otp.close();

  step("sign in with the company's identity provider (OpenID Connect, a real provider)");
  const OIDC_EMAIL = env("OIDC_EMAIL");
  const ssoSignIn = async (context, login) => {
    const p = await context.newPage();
    p.on("pageerror", (e) => pageErrors.push(String(e)));
    await p.goto(`${BASE}/admin/`);
    await p.getByLabel("Work email", { exact: true }).fill(OIDC_EMAIL);
    await p.getByRole("button", { name: "Continue with your identity provider", exact: true }).click();
    // The provider's own pages: log in, then allow Tollgate.
    await p.getByRole("heading", { name: "Sign-in", exact: true }).waitFor();
    assert.ok(p.url().startsWith(env("OIDC_ISSUER")), p.url());
    await p.getByLabel("Login", { exact: true }).fill(login);
    await p.getByRole("button", { name: "Sign-in", exact: true }).click();
    await p.getByRole("button", { name: "Continue", exact: true }).click();
    return p;
  };
  const sso = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p3 = await ssoSignIn(sso, OIDC_EMAIL);
  await p3.getByRole("heading", { name: "Dashboard", exact: true }).waitFor();
  const ssoSession = await fromPage(p3, "/v1/session");
  assert.equal(ssoSession.body.email, OIDC_EMAIL);
  assert.equal(ssoSession.body.role, "viewer");
  await photograph(p3, "oidc-signed-in");
  await sso.close();
  step("an identity outside the tenant's email domain is refused, and the page says why");
  const outsider = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p4 = await ssoSignIn(outsider, "mallory@evil.test");
  await p4.getByText("outside the domain this organisation allows").waitFor();
  assert.equal(new URL(p4.url()).search, "", "the error code is taken off the address");
  assert.equal((await fromPage(p4, "/v1/session")).status, 401);
  await photograph(p4, "oidc-refused");
  await outsider.close();
  assert.deepEqual(pageErrors, [], "errors in the identity-provider sign-in");
  step("done");
} finally {
  await browser.close();
}
process.exit(0);
