// The staff console in a real browser, on what the player's page filed (player.mjs runs first):
// an agent takes, replies and escalates; a reviewer asks for a document again and the player's
// page shows why; each role sees only what it may do, and the API refuses the rest anyway.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, assertNoProblems, BASE, checkAccessibility, eventually, launch, open, screenshot, signIn } from "./harness.mjs";
import { shared } from "./state.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("an agent takes, replies with an edited saved reply, and escalates", async () => {
  const reference = shared.phoneTicket;
  assert.ok(reference, "the keyboard test filed player-2's technical request");
  const page = await open(browser);
  await signIn(page, "agent-technical", "/console/");
  const nav = await page.locator("header nav").innerText();
  assert.match(nav, /Files/);
  assert.doesNotMatch(nav, /Vérifications|Plaintes/, "an agent is offered no review and no complaints report");

  await page.getByRole("heading", { level: 1, name: /File de l’équipe/ }).waitFor();
  await page.locator(`#queue-ticket-${reference}`).waitFor();
  await checkAccessibility(page, "the team queue");
  await screenshot(page, "console-queue");
  await page.locator(`#queue-ticket-${reference}`).click();
  await page.getByRole("heading", { level: 1, name: `Demande ${reference}` }).waitFor();
  await checkAccessibility(page, "a ticket in the console");

  await page.locator("#take").click();
  await eventually(async () => (await api("agent-technical", "GET", `/tickets/${reference}`)).body?.assignee === "agent-technical", "the ticket taken");
  await page.locator("#reply-body").waitFor();

  // A saved reply fills the answer; the agent edits it before sending.
  const saved = page.locator("#reply-saved");
  const firstReply = await saved.locator("option").nth(1).getAttribute("value");
  await saved.selectOption(firstReply);
  assert.notEqual(await page.locator("#reply-body").inputValue(), "", "the saved reply fills the answer");
  const reply = "Bonjour, pouvez-vous essayer de réinstaller l’application ? Nous restons à votre écoute.";
  await page.locator("#reply-body").fill(reply);
  await page.locator("#reply-send").click();
  await eventually(async () => (await api("agent-technical", "GET", `/tickets/${reference}`)).body?.messages?.some((m) => m.body === reply), "the reply stored");

  await page.locator("#escalate-team").selectOption("games");
  await page.locator("#escalate-reason").fill("app_crash");
  await page.locator("#escalate-note").fill("Plantage à la connexion sur mobile, à reproduire.");
  await screenshot(page, "console-ticket");
  await page.locator("#escalate-send").click();
  await eventually(async () => (await api("agent-technical", "GET", `/tickets/${reference}`)).body?.status === "escalated", "the ticket escalated");
  await page.getByText(reply).first().waitFor();
  await checkAccessibility(page, "the ticket after the actions");
  assertNoProblems(page);

  // The player reads the reply on their page; the escalation note is for the teams only.
  const player = await open(browser);
  await signIn(player, "player-2");
  await player.goto(`${BASE}/#/tickets/${reference}`);
  await player.locator("#messages").waitFor();
  assert.match(await player.locator("#messages").innerText(), /réinstaller l’application/);
  assert.equal(await player.getByText("Plantage à la connexion").count(), 0);
  assertNoProblems(player);
});

test("a reviewer asks for a document again and the player's page shows why", async () => {
  const caseId = shared.caseId;
  assert.ok(caseId, "the verification test opened player-1's case");
  const page = await open(browser);
  await signIn(page, "reviewer-1", "/console/");
  const nav = await page.locator("header nav").innerText();
  assert.match(nav, /Vérifications/);
  assert.doesNotMatch(nav, /Files|Courriels retenus/, "a reviewer is offered no team queue and no held mail");
  // And the API refuses what is not offered.
  assert.equal((await api("reviewer-1", "POST", `/tickets/${shared.phoneTicket}/take`, { version: 1 })).status, 403);

  await page.getByRole("link", { name: "Vérifications" }).click();
  await page.getByRole("heading", { level: 1, name: "Dossiers à examiner" }).waitFor();
  await page.locator(`a[href="#/case/${caseId}"]`).first().click();
  await page.getByRole("heading", { level: 1, name: `Dossier ${caseId}` }).waitFor();
  await checkAccessibility(page, "a case in review");

  // Viewing a document issues an audited, short-lived URL.
  await page.locator("#view-government_id").click();
  await page.locator("#view-link-government_id a").waitFor();
  const audit = await api("reviewer-1", "GET", `/verification/cases/${caseId}`);
  assert.ok(audit.body.audit.some((line) => JSON.stringify(line).includes("viewed")), "the view is in the audit trail");

  await page.locator("#decision-request_resubmission").check();
  await page.locator("#resubmit-government_id-unreadable").check();
  const message = "Votre pièce d’identité est illisible : envoyez une photo nette, s’il vous plaît.";
  await page.locator("#decision-player-message").fill(message);
  await page.locator("#decision-internal-note").fill("Photo floue, coin supérieur coupé.");
  await checkAccessibility(page, "the decision form");
  await screenshot(page, "console-review");
  await page.locator("#decision-send").click();
  await eventually(async () => (await api("player-1", "GET", "/verification/case")).body?.status === "awaiting_documents", "the case back with the player");
  assertNoProblems(page);

  const player = await open(browser);
  await signIn(player, "player-1");
  await player.goto(`${BASE}/#/verification`);
  await player.locator("#reviewer-message").waitFor();
  assert.match(await player.locator("#reviewer-message").innerText(), /illisible : envoyez une photo nette/);
  const document = player.locator("#document-government_id");
  assert.match(await document.innerText(), /Pourquoi le renvoyer/);
  assert.equal(await document.locator(".reasons li").count(), 1);
  await player.locator("#upload-government_id").waitFor();
  assert.equal(await player.getByText("coin supérieur coupé").count(), 0, "the internal note never reaches the player");
  await checkAccessibility(player, "my verification, a document to send again");
  await screenshot(player, "player-resubmission");
  assertNoProblems(player);
});

test("a supervisor merges a duplicate; the player reads both conversations in the request that stays", async () => {
  const survivor = shared.incidentTicket;
  assert.ok(survivor, "the first test filed player-1's incident");
  const filed = await api("player-1", "POST", "/tickets", {
    channel: "form",
    category: "technical",
    subject: "Roulette figée, encore",
    description: "Je vous écris de nouveau : la roulette s’est figée pendant ma mise.",
  });
  assert.equal(filed.status, 201, JSON.stringify(filed.body));
  const duplicate = filed.body.reference;

  const page = await open(browser);
  await signIn(page, "supervisor-1", "/console/");
  await page.goto(`${BASE}/console/#/ticket/${duplicate}`);
  await page.getByRole("heading", { level: 1, name: `Demande ${duplicate}` }).waitFor();
  await page.locator("#merge-into").fill(survivor);
  await page.locator("#merge-send").click();
  await page.locator("#merged-into").waitFor();
  await checkAccessibility(page, "a merged duplicate in the console");
  assertNoProblems(page);

  const read = await api("player-1", "GET", `/tickets/${survivor}`);
  assert.deepEqual(read.body.merged.map((m) => m.reference), [duplicate]);
  assert.equal(read.body.notifications.filter((n) => n.kind === "merged").length, 1, "the player is told once");

  const player = await open(browser);
  await signIn(player, "player-1");
  await player.goto(`${BASE}/#/tickets/${survivor}`);
  await player.getByRole("heading", { level: 3, name: `Échanges de la demande ${duplicate}, fusionnée ici` }).waitFor();
  await player.goto(`${BASE}/#/tickets/${duplicate}`);
  await player.getByText(`Cette demande a été fusionnée avec la demande ${survivor}.`).waitFor();
  await checkAccessibility(player, "a merged request on the player's page");
  assertNoProblems(player);
});
