// The complaints report (`#/complaints/<days>`): open complaints received more than N calendar
// days ago, oldest first, with where their promises and the regulator's limit stand.
// Supervisors only (promises/report.rs). Identifiers and dates only: what the player wrote
// stays in the ticket.
import { ApiError } from "../shared/api";
import { field, h, show } from "../shared/dom";
import { alertBox, showFormError } from "../shared/errors";
import type { S } from "../shared/schema";
import { go } from "../shared/shell";
import { isSupervisor, type ConsoleContext } from "./context";
import { badge, denied, heading, label, labels, loading, moreButton, past, row, statusBadge, table, when } from "./ui";

type Line = S<"ComplaintLine">;

const DEFAULT_DAYS = 30;

export async function renderComplaints(ctx: ConsoleContext, asked: string | undefined): Promise<void> {
  const { i18n, api } = ctx;
  if (!isSupervisor(ctx.identity)) return denied(ctx);
  const days = asked === undefined ? String(DEFAULT_DAYS) : asked;
  const alert = alertBox();
  const input = h("input", { id: "open-over-days", type: "number", min: 0, max: 3650, step: 1, inputmode: "numeric", value: days });
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    field(i18n.t("complaints.days"), input, { name: "open_over_days", hint: i18n.t("complaints.days_hint") }),
    h("button", { type: "submit", id: "complaints-show" }, i18n.t("complaints.submit")),
  );
  const labelOf = labels({ open_over_days: i18n.t("complaints.days"), cursor: i18n.t("app.more") });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value === days) void renderComplaints(ctx, value);
    else go(`complaints/${encodeURIComponent(value)}`);
  });
  const results = h("div", { class: "stack" });
  show(ctx.frame.main, heading(i18n.t("complaints.title")), alert, form, results);

  // The API checks the number (0–3650) and names the field; a value that is not a number at
  // all is worded the same way without asking it.
  const count = Number(days);
  if (days === "" || !Number.isInteger(count)) {
    showFormError(form, alert, new ApiError(400, { error: "validation_failed", field: "open_over_days", rule: "range", min: 0, max: 3650, message: "" }), i18n, labelOf);
    return;
  }
  results.replaceChildren(loading(ctx));
  let page: S<"ComplaintPage">;
  try {
    page = await api.get("/reports/complaints", { query: { open_over_days: count, limit: 50 } });
  } catch (error) {
    results.replaceChildren();
    showFormError(form, alert, error, i18n, labelOf);
    return;
  }
  if (page.complaints.length === 0) {
    results.replaceChildren(h("p", null, i18n.t("complaints.empty")));
    return;
  }
  const { wrap, body } = table(
    i18n.t("complaints.caption", { days: page.open_over_days }),
    [
      i18n.t("complaints.reference"),
      i18n.t("complaints.open_days"),
      i18n.t("complaints.received"),
      i18n.t("complaints.status"),
      i18n.t("complaints.team"),
      i18n.t("complaints.player"),
      i18n.t("complaints.assignee"),
      i18n.t("complaints.answer_due"),
      i18n.t("complaints.regulator_limit"),
      i18n.t("complaints.regulator_noticed"),
    ],
    [],
  );
  const append = (lines: Line[]): HTMLElement | null => {
    const rows = lines.map((line) => complaintRow(ctx, line));
    body.append(...rows);
    return rows[0]?.querySelector("a") ?? null;
  };
  append(page.complaints);
  const more = moreButton(
    ctx,
    page.next_cursor,
    async (cursor) => {
      const next = await api.get("/reports/complaints", { query: { open_over_days: count, limit: 50, cursor } });
      return { items: next.complaints, next: next.next_cursor };
    },
    append,
  );
  results.replaceChildren(wrap, more);
}

function complaintRow(ctx: ConsoleContext, line: Line): HTMLTableRowElement {
  const { i18n } = ctx;
  return row([
    h("a", { href: `#/ticket/${encodeURIComponent(line.reference)}` }, line.reference),
    String(line.open_days),
    when(ctx, line.received_at),
    statusBadge(ctx, line.status),
    label(ctx, "team", line.team),
    h("a", { href: `#/player/${encodeURIComponent(line.player)}` }, line.player),
    line.assignee ?? i18n.t("queue.unassigned"),
    [when(ctx, line.answer_due_at), past(line.answer_due_at) ? [" ", badge(i18n.t("queue.overdue"), "danger")] : null],
    when(ctx, line.regulator_limit_at),
    when(ctx, line.regulator_noticed_at),
  ]);
}
