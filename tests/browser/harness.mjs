// What every browser test needs: Debian's Chromium driven by playwright-core (no browser
// download), a page that records what the browser complains about (a Content-Security-Policy
// violation, an uncaught error), sign-in through the page's own development-token picker,
// axe-core on every screen, and the screenshots the README shows.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const BASE = (process.env.GUICHET_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const SHOTS = process.env.SCREENSHOT_DIR;

/** A PNG of one pixel: a real image, as the document check reads its magic bytes. */
export const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);
export const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    // Without the background-networking flags Chromium keeps calling Google's hosts, which
    // this machine's closed network refuses; the sandbox needs user namespaces CI lacks.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A fresh browser context (its own storage) and page, at a desktop or a phone's width. */
export async function open(browser, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: "fr-CA" });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (message) => {
    if (message.type() === "error" && !/Failed to load resource: the server responded with a status of (4\d\d)/.test(message.text())) {
      page.problems.push(message.text());
    }
  });
  page.on("pageerror", (error) => page.problems.push(`uncaught: ${error.message}`));
  return page;
}

/** Nothing went wrong in the page: no uncaught error, no CSP violation, no console error. */
export function assertNoProblems(page) {
  assert.deepEqual(page.problems, [], "the browser reported problems");
}

/** Signs in with the page's development-identity picker. */
export async function signIn(page, sub, app = "/") {
  await page.goto(`${BASE}${app}`);
  await page.locator("#dev-identity").selectOption(sub);
  await page.getByRole("button", { name: /Se connecter|Sign in/ }).click();
  await page.locator("header nav").waitFor();
}

/** axe-core on the current screen: WCAG 2.x A and AA rules; any serious or critical finding fails. */
export async function checkAccessibility(page, screen) {
  const hasAxe = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!hasAxe) await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] } }),
  );
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    serious.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `axe-core on ${screen}`,
  );
}

export async function screenshot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

let tokens;
/** The development identities the local gateway lists, by subject. */
export async function devToken(sub) {
  if (!tokens) {
    const response = await fetch(`${BASE}/dev/tokens`);
    assert.equal(response.status, 200, "GET /dev/tokens");
    tokens = new Map((await response.json()).map((identity) => [identity.sub, identity.token]));
  }
  const token = tokens.get(sub);
  assert.ok(token, `a development token for ${sub}`);
  return token;
}

/** A direct API call, for a test's setup and its checks of what the page did. */
export async function api(sub, method, route, body) {
  const response = await fetch(`${BASE}/api${route}`, {
    method,
    headers: { Authorization: `Bearer ${await devToken(sub)}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Polls `check` until it returns a truthy value (the queue consumers work asynchronously). */
export async function eventually(check, what, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Presses Tab until `selector` has focus: the keyboard's own route through the page. */
export async function tabTo(page, selector, limit = 40) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  assert.fail(`${selector} was not reached with Tab`);
}
