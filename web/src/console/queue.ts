// A team's queue (`#/queue/<team>`): its open tickets, a broken promise first, then by priority
// and arrival (the API's order, kept as is). Agents open their own teams' queues, supervisors
// every team's (team-queue's `works_for` check).
import { h, show } from "../shared/dom";
import type { S } from "../shared/schema";
import { myTeams, type ConsoleContext, type Team } from "./context";
import { badge, denied, heading, label, loadFailed, loading, moreButton, priorityBadge, row, statusBadge, table, when } from "./ui";

type Entry = S<"QueueEntry">;

export async function renderQueue(ctx: ConsoleContext, asked: string | undefined): Promise<void> {
  const { i18n, api } = ctx;
  const teams = myTeams(ctx.identity);
  const team = asked === undefined ? teams[0] : teams.find((t) => t === asked);
  if (!team) return denied(ctx);
  if (asked === undefined) history.replaceState(null, "", `#/queue/${team}`);
  const teamName = label(ctx, "team", team);
  const content = h("div", { class: "stack" }, loading(ctx));
  show(ctx.frame.main, heading(i18n.t("queue.title", { team: teamName })), teamPicker(ctx, teams, team, "queue"), content);

  let page: S<"QueuePage">;
  try {
    page = await api.get("/queues/{team}", { params: { team }, query: { limit: 20 } });
  } catch (error) {
    content.replaceChildren(loadFailed(ctx, error, () => void renderQueue(ctx, team)));
    return;
  }
  if (page.tickets.length === 0) {
    content.replaceChildren(h("p", null, i18n.t("queue.empty")));
    return;
  }
  const { wrap, body } = table(
    i18n.t("queue.caption", { team: teamName }),
    [i18n.t("queue.reference"), i18n.t("queue.priority"), i18n.t("queue.subject"), i18n.t("queue.status"), i18n.t("queue.assignee"), i18n.t("queue.due")],
    [],
  );
  const append = (entries: Entry[]): HTMLElement | null => {
    const rows = entries.map((entry) => queueRow(ctx, entry));
    body.append(...rows);
    return rows[0]?.querySelector("a") ?? null;
  };
  append(page.tickets);
  const more = moreButton(
    ctx,
    page.next_cursor,
    async (cursor) => {
      const next = await api.get("/queues/{team}", { params: { team }, query: { limit: 20, cursor } });
      return { items: next.tickets, next: next.next_cursor };
    },
    append,
  );
  content.replaceChildren(wrap, more);
}

function queueRow(ctx: ConsoleContext, entry: Entry): HTMLTableRowElement {
  const { i18n } = ctx;
  // A clock breached and not met since: the promise to the player is broken, whatever the due
  // time the ticket shows now.
  const broken = (entry.promises ?? []).some((clock) => clock.breached_at && clock.state !== "met");
  return row([
    h("a", { href: `#/ticket/${encodeURIComponent(entry.reference)}`, id: `queue-ticket-${entry.reference}` }, entry.reference),
    priorityBadge(ctx, entry.priority),
    entry.subject,
    statusBadge(ctx, entry.status),
    entry.assignee ?? h("span", { class: "muted" }, i18n.t("queue.unassigned")),
    h(
      "span",
      { class: "row" },
      when(ctx, entry.response_due_at),
      entry.overdue ? h("span", { class: "badge danger overdue" }, i18n.t("queue.overdue")) : null,
      broken ? badge(i18n.t("queue.breached"), "danger") : null,
    ),
  ]);
}

/** Links to the other teams' lists when the caller works for several (queues, incidents). */
export function teamPicker(ctx: ConsoleContext, teams: Team[], current: Team, screen: "queue" | "incidents"): HTMLElement | null {
  if (teams.length < 2) return null;
  return h(
    "nav",
    { "aria-label": ctx.i18n.t(screen === "queue" ? "queue.pick" : "nav.teams") },
    h(
      "ul",
      { class: "nav" },
      teams.map((team) =>
        h("li", null, h("a", { href: `#/${screen}/${team}`, "aria-current": team === current ? "page" : null }, label(ctx, "team", team))),
      ),
    ),
  );
}
