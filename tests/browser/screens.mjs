// axe-core on every screen of both pages, in both languages: the screens the other tests do not
// already check on their way (sign-in, lists, look-up, held mail, the complaints report...).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, BASE, checkAccessibility, launch, open, signIn } from "./harness.mjs";
import { shared } from "./state.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Opens `route` and waits for its heading and for the screen to finish loading. */
async function visit(page, app, route) {
  await page.goto(`${BASE}${app}#/${route}`);
  await page.locator("main h1").first().waitFor();
  await page.waitForLoadState("networkidle");
}

async function bothLanguages(page, app, route) {
  await visit(page, app, route);
  await checkAccessibility(page, `${app}#/${route} in French`);
  await page.locator("#language-switch").click();
  await page.waitForFunction(() => document.documentElement.lang === "en");
  await page.waitForLoadState("networkidle");
  await checkAccessibility(page, `${app}#/${route} in English`);
  await page.locator("#language-switch").click();
  await page.waitForFunction(() => document.documentElement.lang === "fr");
}

test("every screen of the player's page passes axe-core, in French and in English", async () => {
  const page = await open(browser);
  await page.goto(`${BASE}/`);
  await page.locator("#dev-identity").waitFor();
  await checkAccessibility(page, "the sign-in screen");
  await signIn(page, "player-1");
  for (const route of ["contact", "tickets", `tickets/${shared.incidentTicket}`, "verification", "hours"]) {
    await bothLanguages(page, "/", route);
  }
  // A player with no verification case.
  const other = await open(browser);
  await signIn(other, "player-2");
  await bothLanguages(other, "/", "verification");
  assertNoProblems(page);
  assertNoProblems(other);
});

test("every screen of the staff console passes axe-core, in French and in English", async () => {
  const supervisor = await open(browser);
  await signIn(supervisor, "supervisor-1", "/console/");
  const screens = ["queue/technical", "queue/games", "incidents", "player", "player/player-1", "held", "complaints"];
  for (const route of screens) {
    await bothLanguages(supervisor, "/console/", route);
  }
  assertNoProblems(supervisor);

  const reviewer = await open(browser);
  await signIn(reviewer, "reviewer-senior", "/console/");
  for (const route of ["reviews", "reviews/senior", `case/${shared.caseId}`, "player/player-1"]) {
    await bothLanguages(reviewer, "/console/", route);
  }
  assert.ok(shared.caseId);
  assertNoProblems(reviewer);
});
