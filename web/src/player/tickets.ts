// My requests: the list, and one request with its conversation, what was sent to me, its
// history, and an answer form when the team waits on me.
import { ApiError } from "../shared/api";
import { field, h, show } from "../shared/dom";
import { alertBox, clearFormError, showFormError } from "../shared/errors";
import type { S } from "../shared/schema";
import { announce } from "../shared/shell";
import type { PlayerContext } from "./context";
import type { PlayerText } from "./text";

export async function renderTickets(context: PlayerContext): Promise<void> {
  const { api, i18n, frame } = context;
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, i18n.t("app.more"));
  const empty = h("p", { hidden: true }, i18n.t("tickets.empty"));
  const alert = h("div", { role: "alert" });
  let cursor: string | undefined;
  const load = async () => {
    try {
      const page = await api.get("/tickets", { query: { cursor, limit: 20 } });
      for (const ticket of page.tickets) {
        body.append(
          h(
            "tr",
            null,
            h("th", { scope: "row" }, h("a", { href: `#/tickets/${encodeURIComponent(ticket.reference)}` }, ticket.reference)),
            h("td", { class: "message" }, ticket.subject),
            h("td", null, statusText(context, ticket.status)),
            h("td", null, i18n.dateTime(ticket.created_at)),
          ),
        );
      }
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      empty.hidden = body.childElementCount > 0;
    } catch (error) {
      alert.textContent = describe(context, error);
    }
  };
  more.addEventListener("click", () => void load());
  await load();
  show(
    frame.main,
    h("h1", null, i18n.t("tickets.title")),
    alert,
    empty,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        null,
        h(
          "thead",
          null,
          h("tr", null, ["tickets.reference", "tickets.subject", "tickets.status", "tickets.created"].map((key) => h("th", { scope: "col" }, i18n.t(key as keyof PlayerText)))),
        ),
        body,
      ),
    ),
    more,
  );
}

export async function renderTicket(context: PlayerContext, reference: string): Promise<void> {
  const { api, i18n, frame } = context;
  let ticket: S<"TicketRead">;
  try {
    ticket = await api.get("/tickets/{reference}", { params: { reference } });
  } catch (error) {
    // Someone else's request and one that does not exist read the same: nothing is disclosed.
    const text = error instanceof ApiError && (error.status === 404 || error.status === 403) ? i18n.t("ticket.not_found") : describe(context, error);
    show(frame.main, h("h1", null, i18n.t("ticket.title", { reference })), h("p", { class: "alert", role: "alert", id: "ticket-error" }, text), h("p", null, h("a", { href: "#/tickets" }, i18n.t("ticket.back"))));
    return;
  }
  const mergedInto = ticket.merged_into;
  show(
    frame.main,
    h("h1", null, i18n.t("ticket.title", { reference: ticket.reference })),
    mergedInto ? h("p", { class: "notice" }, i18n.t("ticket.merged_into", { reference: mergedInto }), " ", h("a", { href: `#/tickets/${encodeURIComponent(mergedInto)}` }, mergedInto)) : null,
    ticket.status === "waiting_on_player" ? h("p", { class: "notice warn" }, i18n.t("ticket.waiting")) : null,
    h("h2", null, i18n.t("ticket.facts")),
    h(
      "dl",
      { class: "facts" },
      h("dt", null, i18n.t("tickets.subject")),
      h("dd", { class: "message" }, ticket.subject),
      h("dt", null, i18n.t("ticket.category")),
      h("dd", null, i18n.t(`category.${ticket.category}` as keyof PlayerText)),
      h("dt", null, i18n.t("ticket.status")),
      h("dd", { id: "ticket-status" }, statusText(context, ticket.status)),
      h("dt", null, i18n.t("ticket.created")),
      h("dd", null, i18n.dateTime(ticket.created_at)),
      ticket.expected_answer_at ? [h("dt", null, i18n.t("ticket.expected")), h("dd", null, i18n.dateTime(ticket.expected_answer_at))] : null,
    ),
    h("h2", null, i18n.t("ticket.description")),
    h("p", { class: "message card" }, ticket.description),
    h("h2", null, i18n.t("ticket.messages")),
    ticket.messages.length
      ? h(
          "ol",
          { class: "timeline", id: "messages" },
          ticket.messages.map((message) => messageItem(context, message)),
        )
      : h("p", null, i18n.t("ticket.no_messages")),
    (ticket.merged ?? []).map((duplicate) =>
      h(
        "section",
        { class: "card", "aria-labelledby": `merged-${duplicate.reference}` },
        h("h3", { id: `merged-${duplicate.reference}` }, i18n.t("ticket.merged_from", { reference: duplicate.reference })),
        h("p", { class: "message" }, duplicate.subject),
        h("ol", { class: "timeline" }, duplicate.messages.map((message) => messageItem(context, message))),
      ),
    ),
    ticket.status === "closed" ? null : answerForm(context, ticket),
    ticket.attachments.length
      ? [
          h("h2", null, i18n.t("ticket.attachments")),
          h("ul", null, ticket.attachments.map((attachment) => h("li", null, `${attachment.content_type}, ${i18n.size(attachment.size)}`))),
        ]
      : null,
    ticket.notifications.length
      ? [
          h("h2", null, i18n.t("ticket.notifications")),
          ticket.notifications.map((notice) =>
            h("article", { class: "card", lang: notice.language }, h("h3", null, notice.subject), h("p", { class: "muted" }, i18n.dateTime(notice.at)), h("p", { class: "message" }, notice.body)),
          ),
        ]
      : null,
    ticket.history?.length
      ? [
          h("h2", null, i18n.t("ticket.history")),
          h("ol", { class: "timeline" }, ticket.history.map((line) => h("li", null, `${i18n.dateTime(line.at)} — ${statusText(context, line.status)} (${author(context, line.actor)})`))),
        ]
      : null,
    h("p", null, h("a", { href: "#/tickets" }, i18n.t("ticket.back"))),
  );
}

function answerForm(context: PlayerContext, ticket: S<"TicketRead">): HTMLElement {
  const { api, i18n, frame } = context;
  const body = h("textarea", { id: "answer-body", maxlength: 5000 });
  const alert = alertBox();
  const send = h("button", { type: "submit", id: "answer-send" }, i18n.t("ticket.answer_send"));
  const form = h("form", { class: "stack", novalidate: true }, alert, field(i18n.t("ticket.answer_body"), body, { name: "body" }), send);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      clearFormError(form, alert);
      send.disabled = true;
      try {
        await api.post("/tickets/{reference}/messages", { params: { reference: ticket.reference }, body: { body: body.value } });
        await renderTicket(context, ticket.reference);
        announce(frame, i18n.t("ticket.answer_sent"));
        document.getElementById("messages")?.lastElementChild?.scrollIntoView();
      } catch (error) {
        showFormError(form, alert, error, i18n, (name) => (name === "body" ? i18n.t("ticket.answer_body") : undefined));
      } finally {
        send.disabled = false;
      }
    })();
  });
  return h("section", { "aria-labelledby": "answer-title" }, h("h2", { id: "answer-title" }, i18n.t("ticket.answer")), form);
}

function messageItem(context: PlayerContext, message: S<"Message">): HTMLElement {
  const { i18n } = context;
  return h("li", null, h("p", { class: "muted" }, `${author(context, message.author)} — ${i18n.dateTime(message.at)}`), h("p", { class: "message" }, message.body));
}

function statusText(context: PlayerContext, status: S<"TicketStatus">): string {
  return context.i18n.t(`status.${status}` as keyof PlayerText);
}

function author(context: PlayerContext, who: S<"Author">): string {
  const { i18n } = context;
  return i18n.t(who.kind === "player" ? "ticket.author_player" : who.kind === "staff" ? "ticket.author_staff" : "ticket.author_system");
}

function describe(context: PlayerContext, error: unknown): string {
  const { i18n } = context;
  if (error instanceof ApiError) {
    if (error.status === 0) return i18n.t("error.network");
    return (error.body && i18n.maybe(`error.${error.body.error}`)) ?? i18n.t("error.other", { status: error.status });
  }
  return i18n.t("error.internal");
}
