// Player look-up (`#/player`, `#/player/<id>`): an agent on a chat or a call finds the
// player's tickets in work and their verification state. Staff of any team, supervisors and
// the verification team (tickets/lookup.rs `may_look_up`). Every look-up is recorded by the API
// before it answers, so the screen reads only when an id is given, never on its own.
import { ApiError } from "../shared/api";
import { field, h, show } from "../shared/dom";
import { alertBox, showFormError } from "../shared/errors";
import type { S } from "../shared/schema";
import { go } from "../shared/shell";
import { isReviewer, isStaff, mayLookUp, type ConsoleContext } from "./context";
import { badge, denied, facts, heading, label, labels, loading, priorityBadge, statusBadge, table, when } from "./ui";

export async function renderLookup(ctx: ConsoleContext, player: string | undefined): Promise<void> {
  const { i18n, api } = ctx;
  if (!mayLookUp(ctx.identity)) return denied(ctx);
  const alert = alertBox();
  const input = h("input", { id: "player-id", type: "text", autocomplete: "off", spellcheck: "false", value: player ?? "" });
  const form = h(
    "form",
    { class: "stack", novalidate: true, role: "search" },
    field(i18n.t("lookup.player_id"), input, { name: "player_id", hint: i18n.t("lookup.hint") }),
    h("button", { type: "submit", id: "player-search" }, i18n.t("lookup.submit")),
  );
  const labelOf = labels({ player_id: i18n.t("lookup.player_id") });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (!id) {
      showFormError(form, alert, new ApiError(400, { error: "validation_failed", field: "player_id", rule: "required", message: "player_id is required" }), i18n, labelOf);
      return;
    }
    if (id === player) void renderLookup(ctx, id);
    else go(`player/${encodeURIComponent(id)}`);
  });
  const results = h("div");
  show(ctx.frame.main, heading(i18n.t("lookup.title")), alert, form, results);
  if (!player) return;

  results.replaceChildren(loading(ctx));
  let found: S<"PlayerSupport">;
  try {
    found = await api.get("/players/{player_id}/support", { params: { player_id: player } });
  } catch (error) {
    // A bad id is the form's error (`player_id`), named by its label above the form.
    results.replaceChildren();
    showFormError(form, alert, error, i18n, labelOf);
    return;
  }
  results.replaceChildren(
    h("h2", { id: "lookup-result-title" }, i18n.t("lookup.result", { id: found.player_id })),
    h("h3", null, i18n.t("lookup.tickets")),
    found.open_tickets.length
      ? table(
          i18n.t("lookup.tickets_caption"),
          [
            i18n.t("ticket.reference"),
            i18n.t("ticket.subject"),
            i18n.t("ticket.status"),
            i18n.t("ticket.priority"),
            i18n.t("ticket.team"),
            i18n.t("ticket.category"),
            i18n.t("ticket.channel"),
            i18n.t("ticket.created"),
            i18n.t("ticket.assignee"),
          ],
          found.open_tickets.map((ticket) => [
            // The verification team may look a player up but not read tickets (get-ticket).
            isStaff(ctx.identity) ? h("a", { href: `#/ticket/${encodeURIComponent(ticket.reference)}` }, ticket.reference) : ticket.reference,
            ticket.subject,
            statusBadge(ctx, ticket.status),
            priorityBadge(ctx, ticket.priority),
            label(ctx, "team", ticket.team),
            label(ctx, "category", ticket.category),
            label(ctx, "channel", ticket.channel),
            when(ctx, ticket.created_at),
            ticket.assignee ?? i18n.t("queue.unassigned"),
          ]),
        ).wrap
      : h("p", null, i18n.t("lookup.tickets_empty")),
    h("h3", null, i18n.t("lookup.verification")),
    verification(ctx, found.verification ?? null),
  );
}

function verification(ctx: ConsoleContext, line: S<"CaseLine"> | null): HTMLElement {
  const { i18n } = ctx;
  if (!line) return h("p", null, i18n.t("lookup.no_case"));
  return facts([
    [
      i18n.t("reviews.case"),
      isReviewer(ctx.identity) ? h("a", { href: `#/case/${encodeURIComponent(line.case_id)}` }, line.case_id) : line.case_id,
    ],
    [i18n.t("case.status"), [label(ctx, "case_status", line.status), line.needs_senior ? [" ", badge(i18n.t("reviews.needs_senior"), "warn")] : null]],
    [i18n.t("case.reason"), label(ctx, "case_reason", line.reason)],
    [i18n.t("case.opened"), when(ctx, line.opened_at)],
    [
      i18n.t("case.documents"),
      h("ul", null, line.documents.map((doc) => h("li", null, `${label(ctx, "document", doc.kind)} — ${label(ctx, "document_status", doc.status)}`))),
    ],
  ]);
}
