// Identity verification for reviewers: the review queue (`#/reviews`, and `#/reviews/senior`
// for senior reviewers) and one case (`#/case/<id>`) with its documents, its audit trail and
// the decision. Reviewers are `verification` or `verification_senior` (read-case's
// `require_reviewer`); the senior queue and cases past the resubmission cap need
// `verification_senior` (review-case), so the decision form is drawn only for who may decide.
import { ApiError } from "../shared/api";
import { h, uid, type Child, show } from "../shared/dom";
import { alertBox } from "../shared/errors";
import type { S } from "../shared/schema";
import { isReviewer, isSenior, mayLookUp, type ConsoleContext } from "./context";
import { authorText, badge, denied, facts, focusById, heading, label, labels, loadFailed, loading, onSubmit, table, when } from "./ui";

type Case = S<"VerificationCase">;
type Kind = S<"DocumentKind">;
type Reason = S<"ReasonCode">;

const REASONS: readonly Reason[] = [
  "unreadable",
  "expired",
  "name_mismatch",
  "address_too_old",
  "wrong_document_type",
  "incomplete",
  "suspected_tampering",
];

function caseBadge(ctx: ConsoleContext, status: S<"CaseStatus">): HTMLSpanElement {
  const tone = status === "approved" ? "ok" : status === "rejected" ? "danger" : status === "in_review" ? "warn" : undefined;
  return badge(label(ctx, "case_status", status), tone);
}

function playerLink(ctx: ConsoleContext, player: string): Child {
  return mayLookUp(ctx.identity) ? h("a", { href: `#/player/${encodeURIComponent(player)}` }, player) : player;
}

export async function renderReviews(ctx: ConsoleContext, senior: boolean): Promise<void> {
  const { i18n, api } = ctx;
  if (!isReviewer(ctx.identity) || (senior && !isSenior(ctx.identity))) return denied(ctx);
  const content = h("div", { class: "stack" }, loading(ctx));
  show(ctx.frame.main, 
    heading(i18n.t(senior ? "reviews.title_senior" : "reviews.title")),
    isSenior(ctx.identity)
      ? h(
          "nav",
          { "aria-label": i18n.t("nav.reviews") },
          h(
            "ul",
            { class: "nav" },
            h("li", null, h("a", { href: "#/reviews", "aria-current": senior ? null : "page" }, i18n.t("reviews.standard"))),
            h("li", null, h("a", { href: "#/reviews/senior", "aria-current": senior ? "page" : null }, i18n.t("reviews.senior"))),
          ),
        )
      : null,
    content,
  );
  let queue: S<"ReviewQueue">;
  try {
    queue = await api.get("/verification/reviews", { query: { queue: senior ? "senior" : "standard", limit: 50 } });
  } catch (error) {
    content.replaceChildren(loadFailed(ctx, error, () => void renderReviews(ctx, senior)));
    return;
  }
  if (queue.cases.length === 0) {
    content.replaceChildren(h("p", null, i18n.t("reviews.empty")));
    return;
  }
  const { wrap } = table(
    i18n.t("reviews.caption"),
    [i18n.t("reviews.case"), i18n.t("reviews.reason"), i18n.t("reviews.player"), i18n.t("case.status"), i18n.t("reviews.submitted"), i18n.t("reviews.documents")],
    queue.cases.map((item) => [
      h("a", { href: `#/case/${encodeURIComponent(item.id)}` }, item.id),
      [
        label(ctx, "case_reason", item.reason),
        // The API puts these first: a player is waiting for their money.
        item.reason === "first_withdrawal" ? [" ", badge(i18n.t("reviews.blocking"), "danger")] : null,
        item.needs_senior ? [" ", badge(i18n.t("reviews.needs_senior"), "warn")] : null,
      ],
      playerLink(ctx, item.player),
      caseBadge(ctx, item.status),
      when(ctx, item.submitted_at),
      h("ul", null, item.documents.map((doc) => h("li", null, `${label(ctx, "document", doc.kind)} — ${label(ctx, "document_status", doc.status)}`))),
    ]),
  );
  content.replaceChildren(wrap);
}

interface Flash {
  section: string;
  text: string;
}

export async function renderCase(ctx: ConsoleContext, id: string, flash?: Flash): Promise<void> {
  const { i18n, api } = ctx;
  if (!isReviewer(ctx.identity)) return denied(ctx);
  const main = ctx.frame.main;
  main.replaceChildren(heading(i18n.t("case.title", { id })), loading(ctx));
  let read: S<"StaffCase">;
  try {
    read = await api.get("/verification/cases/{case_id}", { params: { case_id: id } });
  } catch (error) {
    main.replaceChildren(heading(i18n.t("case.title", { id })), loadFailed(ctx, error, () => void renderCase(ctx, id)));
    return;
  }
  const found = read.case;
  // The latest token: a view moves the case's etag, and its answer carries the new one, so
  // the decision that follows still costs one round trip.
  const token = { state: read.state ?? null };
  const audit = h("div");
  audit.replaceChildren(auditList(ctx, read.audit));
  show(
    main,
    heading(i18n.t("case.title", { id: found.id })),
    h(
      "section",
      { "aria-labelledby": "case-facts-title" },
      h("h2", { id: "case-facts-title" }, i18n.t("case.facts")),
      facts([
        [i18n.t("case.player"), playerLink(ctx, found.player)],
        [
          i18n.t("case.reason"),
          [label(ctx, "case_reason", found.reason), found.reason === "first_withdrawal" ? [" ", badge(i18n.t("reviews.blocking"), "danger")] : null],
        ],
        [i18n.t("case.status"), [caseBadge(ctx, found.status), found.needs_senior ? [" ", badge(i18n.t("reviews.needs_senior"), "warn")] : null]],
        [i18n.t("case.language"), label(ctx, "language", found.language)],
        [i18n.t("case.opened"), when(ctx, found.opened_at)],
        [i18n.t("case.submitted"), when(ctx, found.submitted_at)],
        [i18n.t("case.updated"), when(ctx, found.updated_at)],
        found.player_message ? [i18n.t("case.player_message"), h("span", { class: "message" }, found.player_message)] : null,
        [i18n.t("common.version"), String(found.version)],
      ]),
    ),
    documentsSection(ctx, found, token, audit),
    decisionSection(ctx, found, token),
    h("section", { "aria-labelledby": "case-audit-title" }, h("h2", { id: "case-audit-title" }, i18n.t("case.audit")), audit),
  );
  if (flash) {
    const target = `${flash.section}-title`;
    document.getElementById(target)?.after(h("p", { class: "notice ok" }, flash.text));
    focusById(main, target);
  }
}

function documentsSection(ctx: ConsoleContext, found: Case, token: { state: string | null }, audit: HTMLElement): HTMLElement {
  const { i18n, api } = ctx;
  const alert = alertBox();
  const { wrap } = table(
    i18n.t("case.documents_caption"),
    [i18n.t("case.kind"), i18n.t("case.doc_status"), i18n.t("case.received"), i18n.t("case.file"), i18n.t("case.resubmissions"), i18n.t("case.reasons"), i18n.t("case.view")],
    found.documents.map((slot) => {
      const kind = label(ctx, "document", slot.kind);
      const opened = h("div", { id: `view-link-${slot.kind}` });
      let viewer: Child = h("span", { class: "muted" }, i18n.t("case.no_file"));
      if (slot.current) {
        const form = h("form", { novalidate: true }, h("button", { type: "submit", class: "secondary", id: `view-${slot.kind}` }, i18n.t("case.view_label", { kind })));
        onSubmit(ctx, form, alert, labels({ kind: i18n.t("case.kind"), state: i18n.t("common.state") }), async () => {
          const view = await api.post("/verification/cases/{case_id}/documents/{kind}/view", {
            params: { case_id: found.id, kind: slot.kind },
            body: token.state ? { state: token.state } : {},
          });
          token.state = view.state ?? token.state;
          // The URL is short-lived and the view is audited: open it now, and keep a link in
          // the row in case the browser blocked the new tab.
          window.open(view.url, "_blank", "noopener,noreferrer");
          opened.replaceChildren(
            h(
              "a",
              { href: view.url, target: "_blank", rel: "noopener noreferrer" },
              i18n.t("case.view_link", { kind, at: i18n.dateTime(view.expires_at) }),
              " ",
              h("span", { class: "muted" }, i18n.t("common.new_tab")),
            ),
          );
          void refreshAudit(ctx, found.id, token, audit);
          return i18n.t("done.view", { kind });
        });
        viewer = [form, opened];
      }
      return [
        kind,
        label(ctx, "document_status", slot.status),
        when(ctx, slot.current?.received_at),
        slot.current ? `${slot.current.content_type}, ${i18n.size(slot.current.size)}` : i18n.t("common.none"),
        String(slot.resubmissions),
        [
          slot.reasons.map((reason) => label(ctx, "reason_code", reason)).join(", ") || i18n.t("common.none"),
          slot.check_failure ? h("p", { class: "muted" }, label(ctx, "check_failure", slot.check_failure)) : null,
        ],
        viewer,
      ];
    }),
  );
  return h(
    "section",
    { "aria-labelledby": "case-documents-title" },
    h("h2", { id: "case-documents-title" }, i18n.t("case.documents")),
    h("p", { class: "hint muted" }, i18n.t("case.view_hint")),
    alert,
    wrap,
  );
}

/** After a view: the trail has a new line and the case a new token; the form stays as typed. */
async function refreshAudit(ctx: ConsoleContext, id: string, token: { state: string | null }, audit: HTMLElement): Promise<void> {
  try {
    const read = await ctx.api.get("/verification/cases/{case_id}", { params: { case_id: id } });
    token.state = read.state ?? token.state;
    audit.replaceChildren(auditList(ctx, read.audit));
  } catch {
    // The view itself succeeded; the trail shows the line at the next read.
  }
}

function auditList(ctx: ConsoleContext, entries: S<"AuditEntry">[]): HTMLElement {
  const { i18n } = ctx;
  if (entries.length === 0) return h("p", null, i18n.t("case.audit_empty"));
  return h(
    "ol",
    { class: "timeline" },
    entries.map((entry) =>
      h(
        "li",
        null,
        h("p", null, h("strong", null, auditText(ctx, entry.action))),
        h("p", { class: "muted" }, i18n.t("audit.line", { at: i18n.dateTime(entry.at), actor: authorText(ctx, entry.actor) })),
        entry.internal_note ? h("p", { class: "message card internal" }, i18n.t("case.audit_note", { note: entry.internal_note })) : null,
      ),
    ),
  );
}

function auditText(ctx: ConsoleContext, action: S<"AuditAction">): string {
  const { i18n } = ctx;
  const kind = (value: Kind) => label(ctx, "document", value);
  const reasons = (values: Reason[]) => values.map((value) => label(ctx, "reason_code", value)).join(", ");
  switch (action.action) {
    case "opened":
      return i18n.t("audit.opened", { reason: label(ctx, "case_reason", action.reason) });
    case "upload_url_issued":
      return i18n.t(action.on_behalf_of_player ? "audit.upload_on_behalf" : "audit.upload_url_issued", { kind: kind(action.kind) });
    case "document_received":
      return i18n.t("audit.document_received", { kind: kind(action.kind) });
    case "document_refused":
      return i18n.t("audit.document_refused", { kind: kind(action.kind), failure: label(ctx, "check_failure", action.failure) });
    case "submitted_for_review":
      return i18n.t("audit.submitted_for_review");
    case "document_viewed":
      return i18n.t("audit.document_viewed", { kind: kind(action.kind) });
    case "approved":
      return i18n.t("audit.approved");
    case "rejected":
      return i18n.t("audit.rejected", { reasons: reasons(action.reasons) });
    case "resubmission_requested":
      return i18n.t("audit.resubmission_requested", {
        documents: action.documents.map(([document, why]) => `${kind(document)} (${reasons(why)})`).join("; "),
      });
    case "sent_to_senior_review":
      return i18n.t("audit.sent_to_senior_review", { kind: kind(action.kind) });
    default:
      return (action as { action: string }).action;
  }
}

// ---- Decision ------------------------------------------------------------------------------

/** A group of checkboxes, one per reason code, marked as a whole by `markField(name)`. */
function reasonGroup(ctx: ConsoleContext, name: string, legend: string, idPrefix: string, hint?: string): { set: HTMLFieldSetElement; chosen: () => Reason[] } {
  const errorId = uid("err");
  const hintId = hint ? uid("hint") : null;
  const boxes = REASONS.map((reason) => h("input", { type: "checkbox", id: `${idPrefix}-${reason}`, name, value: reason }));
  const set = h(
    "fieldset",
    { "data-field": name, "aria-describedby": [hintId, errorId].filter(Boolean).join(" ") },
    h("legend", null, legend),
    hint && hintId ? h("p", { class: "hint", id: hintId }, hint) : null,
    h("p", { class: "field-error", id: errorId, hidden: true }),
    boxes.map((box) => h("div", { class: "choice" }, box, h("label", { for: box.id }, label(ctx, "reason_code", box.value)))),
  );
  return { set, chosen: () => boxes.filter((box) => box.checked).map((box) => box.value as Reason) };
}

function decisionSection(ctx: ConsoleContext, found: Case, token: { state: string | null }): HTMLElement {
  const { i18n, api } = ctx;
  const title = h("h2", { id: "decision-title" }, i18n.t("case.decision_title"));
  const wrap = (...children: Child[]) => h("section", { "aria-labelledby": title.id }, title, ...children);
  if (found.status !== "in_review") return wrap(h("p", { class: "notice" }, i18n.t("case.not_in_review")));
  if (found.needs_senior && !isSenior(ctx.identity)) return wrap(h("p", { class: "notice warn" }, i18n.t("case.senior_only")));

  const decisions = ["approve", "reject", "request_resubmission"] as const;
  const radios = decisions.map((decision) => h("input", { type: "radio", name: "decision", id: `decision-${decision}`, value: decision }));
  const decisionError = h("p", { class: "field-error", id: "decision-error", hidden: true });
  const choice = h(
    "fieldset",
    { "data-field": "decision", "aria-describedby": decisionError.id },
    h("legend", null, i18n.t("decision.legend")),
    decisionError,
    radios.map((radio) => h("div", { class: "choice" }, radio, h("label", { for: radio.id }, i18n.t(`decision.${radio.value as (typeof decisions)[number]}`)))),
  );

  const rejection = reasonGroup(ctx, "reasons", i18n.t("decision.reject_reasons"), "reject-reason", i18n.t("decision.reject_hint"));
  rejection.set.id = "decision-reasons";

  // Per document, the reasons to send it again; a document with none ticked is accepted.
  const perDocument = found.documents.map((slot) => ({
    kind: slot.kind,
    group: reasonGroup(ctx, `documents.${slot.kind}`, i18n.t("decision.document_reasons", { kind: label(ctx, "document", slot.kind) }), `resubmit-${slot.kind}`),
  }));
  const documentsError = h("p", { class: "field-error", id: "decision-documents-error", hidden: true });
  const documentsHint = h("p", { class: "hint", id: "decision-documents-hint" }, i18n.t("decision.documents_hint"));
  const resubmission = h(
    "fieldset",
    { "data-field": "documents", id: "decision-documents", "aria-describedby": `${documentsHint.id} ${documentsError.id}` },
    h("legend", null, i18n.t("decision.documents")),
    documentsHint,
    documentsError,
    h("div", { class: "stack" }, perDocument.map((entry) => entry.group.set)),
  );

  const message = h("textarea", { id: "decision-player-message", name: "player_message", rows: 4 });
  const messageHint = h("p", { class: "hint", id: "decision-player-message-hint" }, i18n.t("decision.player_message_hint", { language: label(ctx, "language", found.language) }));
  const messageError = h("p", { class: "field-error", id: "decision-player-message-error", hidden: true });
  message.setAttribute("aria-describedby", `${messageHint.id} ${messageError.id}`);
  const note = h("textarea", { id: "decision-internal-note", name: "internal_note", rows: 4 });
  const noteHint = h("p", { class: "hint", id: "decision-internal-note-hint" }, i18n.t("decision.internal_note_hint"));
  const noteError = h("p", { class: "field-error", id: "decision-internal-note-error", hidden: true });
  note.setAttribute("aria-describedby", `${noteHint.id} ${noteError.id}`);

  // What the player reads and what stays with staff, in two separate fieldsets.
  const toPlayer = h(
    "fieldset",
    null,
    h("legend", null, i18n.t("decision.player_fieldset")),
    h("div", { class: "field", "data-field": "player_message" }, h("label", { for: message.id }, i18n.t("decision.player_message")), messageHint, message, messageError),
  );
  const internal = h(
    "fieldset",
    { class: "internal" },
    h("legend", null, i18n.t("decision.internal_fieldset")),
    h("div", { class: "field", "data-field": "internal_note" }, h("label", { for: note.id }, i18n.t("decision.internal_note")), noteHint, note, noteError),
  );

  const chosen = () => radios.find((radio) => radio.checked)?.value as (typeof decisions)[number] | undefined;
  // Only the reasons that go with the chosen decision are shown (and sent).
  const sync = () => {
    rejection.set.hidden = chosen() !== "reject";
    resubmission.hidden = chosen() !== "request_resubmission";
  };
  for (const radio of radios) radio.addEventListener("change", sync);
  sync();

  const alert = alertBox();
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    choice,
    rejection.set,
    resubmission,
    toPlayer,
    internal,
    h("button", { type: "submit", id: "decision-send" }, i18n.t("decision.submit")),
  );
  const fieldLabels: Record<string, string> = {
    decision: i18n.t("decision.legend"),
    reasons: i18n.t("decision.reject_reasons"),
    documents: i18n.t("decision.documents"),
    player_message: i18n.t("decision.player_message"),
    internal_note: i18n.t("decision.internal_note"),
    version: i18n.t("common.version"),
    state: i18n.t("common.state"),
  };
  for (const entry of perDocument) fieldLabels[`documents.${entry.kind}`] = i18n.t("decision.document_reasons", { kind: label(ctx, "document", entry.kind) });
  onSubmit(ctx, form, alert, labels(fieldLabels), async () => {
    const decision = chosen();
    if (!decision) throw new ApiError(400, { error: "validation_failed", field: "decision", rule: "required", message: "decision is required" });
    const documents: Record<string, Reason[]> = {};
    for (const entry of perDocument) {
      const reasons = entry.group.chosen();
      if (reasons.length) documents[entry.kind] = reasons;
    }
    const playerMessage = message.value.trim() ? message.value : null;
    const internalNote = note.value.trim() ? note.value : null;
    const decided = await api.post("/verification/cases/{case_id}/decision", {
      params: { case_id: found.id },
      body: {
        version: found.version,
        decision,
        ...(token.state ? { state: token.state } : {}),
        ...(decision === "reject" ? { reasons: rejection.chosen() } : {}),
        ...(decision === "request_resubmission" ? { documents } : {}),
        ...(playerMessage ? { player_message: playerMessage } : {}),
        ...(internalNote ? { internal_note: internalNote } : {}),
      },
    });
    const text = i18n.t("done.decision", { status: label(ctx, "case_status", decided.status) });
    await renderCase(ctx, found.id, { section: "decision", text });
    return text;
  });
  return wrap(alert, form);
}
