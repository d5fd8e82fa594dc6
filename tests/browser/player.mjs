// The player's support page in a real browser: filing with a screenshot, the acknowledgement in
// both languages, keyboard only on a phone, another player's ticket out of reach, the
// verification uploads. Each screen is checked with axe-core.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, assertNoProblems, checkAccessibility, eventually, launch, open, PDF, PNG, screenshot, signIn, tabTo, BASE } from "./harness.mjs";
import { shared } from "./state.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("a player files an incident with a screenshot, reads the acknowledgement in French, then in English", async () => {
  const page = await open(browser);
  await signIn(page, "player-1");
  await page.getByRole("heading", { level: 1, name: "Nous écrire" }).waitFor();
  await checkAccessibility(page, "the contact form");

  // An empty form: the API's refusal, worded in French, names the field by its label.
  await page.locator("#contact-submit").click();
  const alert = page.locator(".alert[role=alert]");
  await alert.waitFor();
  assert.match(await alert.innerText(), /Objet|Description|Catégorie/);
  assert.equal(await page.locator("[aria-invalid=true]").count(), 1);
  await checkAccessibility(page, "the contact form with an error");

  await page.getByLabel("Catégorie").selectOption("incident");
  await page.getByLabel("Objet").fill("La roulette s’est figée pendant une mise");
  await page.getByLabel("Description", { exact: true }).fill("Le jeu s’est figé après ma mise de 20 $ et le solde n’a pas changé.");
  const yesterday = new Date(Date.now() - 24 * 3600 * 1000);
  const local = new Date(yesterday.getTime() - yesterday.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  await page.getByLabel("Date et heure de l’incident").fill(local);
  await page.getByLabel("Jeu").fill("Roulette Royale");
  await page.getByLabel("Ce que vous avez déjà essayé").fill("Recharger la page\nVider le cache");
  await page.getByLabel("Captures d’écran (facultatif)").setInputFiles({ name: "capture.png", mimeType: "image/png", buffer: PNG });
  await screenshot(page, "player-contact");
  await page.locator("#contact-submit").click();

  const reference = page.locator("#ack-reference");
  await reference.waitFor({ timeout: 20000 });
  assert.match(await reference.innerText(), /^Votre référence : [A-Z0-9]{5}-[A-Z0-9]{5}$/);
  assert.match(await page.locator("#ack-expected").innerText(), /^Réponse attendue au plus tard le /);
  const ticket = (await reference.innerText()).split(" : ")[1];
  shared.incidentTicket = ticket;
  assert.match(await page.locator("#acknowledgement").innerText(), /1 fichier\(s\) joint\(s\)/);
  await checkAccessibility(page, "the acknowledgement");
  await screenshot(page, "player-acknowledgement");

  // The language switch keeps the screen: same address, same reference, English words.
  await page.getByRole("button", { name: "English" }).click();
  await page.getByRole("heading", { level: 1, name: "Request received" }).waitFor();
  assert.equal(await page.locator("#ack-reference").innerText(), `Your reference: ${ticket}`);
  assert.ok(page.url().endsWith(`#/received/${ticket}`));
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "language-switch");
  await checkAccessibility(page, "the acknowledgement in English");

  // The screenshot went from the browser straight to S3, and the check accepted it.
  const attached = await eventually(async () => {
    const read = await api("player-1", "GET", `/tickets/${ticket}`);
    return read.body?.attachments?.length === 1 ? read.body.attachments[0] : null;
  }, "the screenshot's check");
  assert.equal(attached.content_type, "image/png");
  assert.equal(attached.url ?? null, null, "a player never gets the attachment's URL");

  await page.getByRole("button", { name: "Français" }).click();
  await page.getByRole("link", { name: "Mes demandes" }).click();
  await page.getByRole("link", { name: ticket }).click();
  await page.getByRole("heading", { level: 1, name: `Demande ${ticket}` }).waitFor();
  await checkAccessibility(page, "my request");
  await page.getByRole("link", { name: "Heures d’ouverture" }).click();
  await page.getByRole("heading", { level: 1, name: "Heures d’ouverture" }).waitFor();
  assert.match(await page.locator("#chat-now").innerText(), /Le clavardage est (ouvert|fermé)/);
  await checkAccessibility(page, "the opening hours");
  assertNoProblems(page);
});

test("keyboard only, on a 390 px phone: sign in and file a request", async () => {
  const page = await open(browser, { width: 390, height: 844 });
  await page.goto(`${BASE}/`);
  await page.locator("#dev-identity").waitFor();
  await tabTo(page, "#dev-identity");
  // A focused <select> changes with the arrow keys, without opening.
  for (let i = 0; i < 10 && (await page.locator("#dev-identity").inputValue()) !== "player-2"; i += 1) {
    await page.keyboard.press("ArrowDown");
  }
  assert.equal(await page.locator("#dev-identity").inputValue(), "player-2");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.locator("header nav").waitFor();

  await tabTo(page, "select[name=category]");
  await page.keyboard.press("Tab");
  await page.keyboard.type("Impossible de me connecter sur mobile");
  await page.keyboard.press("Tab");
  await page.keyboard.type("Depuis ce matin, l’application refuse mon mot de passe sur mon téléphone.");
  await tabTo(page, "#contact-submit");
  await screenshot(page, "player-phone");
  await page.keyboard.press("Enter");
  await page.locator("#ack-reference").waitFor({ timeout: 20000 });
  shared.phoneTicket = (await page.locator("#ack-reference").innerText()).split(" : ")[1];
  assert.ok(shared.phoneTicket);
  // Nothing wider than the phone: no sideways scrolling.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "the page fits 390 px");
  await checkAccessibility(page, "the acknowledgement on a phone");
  assertNoProblems(page);
});

test("a player cannot open another player's ticket by editing the address", async () => {
  assert.ok(shared.incidentTicket, "the first test filed player-1's ticket");
  const page = await open(browser);
  await signIn(page, "player-2");
  await page.goto(`${BASE}/#/tickets/${shared.incidentTicket}`);
  const error = page.locator("#ticket-error");
  await error.waitFor();
  assert.equal(await error.innerText(), "Cette demande n’existe pas ou ne vous appartient pas.");
  assert.equal(await page.getByText("Roulette").count(), 0, "nothing of the ticket is shown");
  await checkAccessibility(page, "a ticket that is not mine");
  assertNoProblems(page);
});

test("a player completes the verification uploads", async () => {
  const opened = await api("reviewer-1", "POST", "/verification/cases", { player_id: "player-1", reason: "first_withdrawal", language: "fr" });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  shared.caseId = opened.body.id;

  const page = await open(browser);
  await signIn(page, "player-1");
  await page.getByRole("link", { name: "Ma vérification" }).click();
  await page.getByRole("heading", { level: 1, name: "Ma vérification d’identité" }).waitFor();
  assert.match(await page.locator("#gates").innerText(), /Retraits : bloqué/);
  await checkAccessibility(page, "my verification, documents to send");
  await screenshot(page, "player-verification");

  const forms = page.locator("form:has(input[type=file])");
  const kinds = await page.locator("input[type=file]").evaluateAll((inputs) => inputs.map((input) => input.id.replace(/^upload-/, "")));
  assert.ok(kinds.length >= 1, "at least one document to send");
  for (const kind of kinds) {
    await page.locator(`#upload-${kind}`).setInputFiles({ name: `${kind}.pdf`, mimeType: "application/pdf", buffer: PDF });
    await page.locator(`#upload-${kind}-send`).click();
    await page.locator(`#uploaded-${kind}`).waitFor({ timeout: 20000 });
  }
  assert.equal(await forms.count(), 0);

  await eventually(async () => (await api("player-1", "GET", "/verification/case")).body?.status === "in_review", "the case in review");
  await page.reload();
  await page.locator("#case-status").waitFor();
  await checkAccessibility(page, "my verification, in review");
  assertNoProblems(page);
});
