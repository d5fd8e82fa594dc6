// One ticket (`#/ticket/<reference>`): what the player asked, the conversation, the desk's
// promises and history, and the actions of the ticket's team. Any agent or supervisor reads any
// ticket (get-ticket), but only staff of its team act on it (`Desk::read_for`'s `works_for`),
// so the actions are drawn for them alone, and each only in the states the workflow accepts it
// (tickets/workflow.rs). Every action sends the `version` and the `state` token of the read it
// was decided on (one round trip when nothing changed), then the ticket is read again.
import { ApiError, newIdempotencyKey } from "../shared/api";
import { field, h, type Child, show } from "../shared/dom";
import { alertBox } from "../shared/errors";
import type { S } from "../shared/schema";
import { announce } from "../shared/shell";
import { isReviewer, isStaff, mayLookUp, SPECIALIST_TEAMS, worksFor, type ConsoleContext } from "./context";
import {
  authorText,
  badge,
  denied,
  facts,
  focusById,
  heading,
  label,
  labels,
  loadFailed,
  loading,
  onSubmit,
  past,
  priorityBadge,
  statusBadge,
  table,
  when,
} from "./ui";

type TicketRead = S<"TicketRead">;
type Status = S<"TicketStatus">;

/** What the last action did: said under its section's heading, where focus lands. */
interface Flash {
  section: string;
  text: string;
}

export async function renderTicket(ctx: ConsoleContext, reference: string, flash?: Flash): Promise<void> {
  const { i18n, api } = ctx;
  if (!isStaff(ctx.identity)) return denied(ctx);
  const main = ctx.frame.main;
  main.replaceChildren(heading(i18n.t("ticket.title", { reference })), loading(ctx));
  let ticket: TicketRead;
  try {
    ticket = await api.get("/tickets/{reference}", { params: { reference } });
  } catch (error) {
    main.replaceChildren(heading(i18n.t("ticket.title", { reference })), loadFailed(ctx, error, () => void renderTicket(ctx, reference)));
    return;
  }
  const mine = worksFor(ctx.identity, ticket.team);
  // The team's saved replies in the ticket's language; only its own staff may read them.
  let saved: S<"SavedReply">[] | null = null;
  if (mine && ticket.status !== "closed") {
    try {
      saved = (await api.get("/queues/{team}/saved-replies", { params: { team: ticket.team }, query: { language: ticket.language } })).replies;
    } catch {
      saved = null;
    }
  }
  show(
    main,
    heading(i18n.t("ticket.title", { reference: ticket.reference })),
    h("p", { class: "message" }, ticket.subject),
    factsSection(ctx, ticket),
    descriptionSection(ctx, ticket),
    attachmentsSection(ctx, ticket),
    messagesSection(ctx, ticket),
    mergedSection(ctx, ticket),
    actionsSection(ctx, ticket, mine, saved),
    promisesSection(ctx, ticket),
    historySection(ctx, ticket),
    escalationsSection(ctx, ticket),
    notificationsSection(ctx, ticket),
  );
  if (flash) {
    // The section may be gone (Take after taking, Escalate once escalated): then the actions'
    // heading carries the result.
    const target = document.getElementById(`${flash.section}-title`) ? `${flash.section}-title` : "actions-title";
    document.getElementById(target)?.after(h("p", { class: "notice ok" }, flash.text));
    focusById(main, target);
  }
}

function section(id: string, title: string, ...children: Child[]): HTMLElement {
  return h("section", { "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), ...children);
}

function factsSection(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n } = ctx;
  // Overdue as the queue counts it: past its due time while it is the desk's turn to answer.
  const overdue = past(ticket.response_due_at) && (ticket.status === "open" || ticket.status === "escalated");
  return section(
    "facts",
    i18n.t("ticket.facts"),
    facts([
      [i18n.t("ticket.reference"), ticket.reference],
      [i18n.t("ticket.status"), statusBadge(ctx, ticket.status)],
      [i18n.t("ticket.priority"), priorityBadge(ctx, ticket.priority)],
      [i18n.t("ticket.team"), label(ctx, "team", ticket.team)],
      [i18n.t("ticket.category"), label(ctx, "category", ticket.category)],
      [i18n.t("ticket.channel"), label(ctx, "channel", ticket.channel)],
      [i18n.t("ticket.language"), label(ctx, "language", ticket.language)],
      [
        i18n.t("ticket.player"),
        mayLookUp(ctx.identity) ? h("a", { href: `#/player/${encodeURIComponent(ticket.player)}` }, ticket.player) : ticket.player,
      ],
      [i18n.t("ticket.assignee"), ticket.assignee ?? i18n.t("queue.unassigned")],
      [i18n.t("ticket.created"), when(ctx, ticket.created_at)],
      [i18n.t("ticket.updated"), when(ctx, ticket.updated_at)],
      [
        i18n.t("ticket.response_due"),
        h("span", { class: "row" }, when(ctx, ticket.response_due_at), overdue ? h("span", { class: "badge danger overdue" }, i18n.t("queue.overdue")) : null),
      ],
      ticket.expected_answer_at ? [i18n.t("ticket.expected_answer"), when(ctx, ticket.expected_answer_at)] : null,
      ticket.linked_incident
        ? [i18n.t("ticket.incident"), h("a", { href: `#/incident/${encodeURIComponent(ticket.linked_incident)}` }, ticket.linked_incident)]
        : null,
      ticket.verification_case
        ? [
            i18n.t("ticket.case"),
            isReviewer(ctx.identity) ? h("a", { href: `#/case/${encodeURIComponent(ticket.verification_case)}` }, ticket.verification_case) : ticket.verification_case,
          ]
        : null,
      [i18n.t("common.version"), String(ticket.version)],
    ]),
  );
}

function descriptionSection(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n } = ctx;
  const incident = ticket.incident;
  return section(
    "description",
    i18n.t("ticket.description"),
    h("p", { class: "message card" }, ticket.description),
    incident
      ? [
          h("h3", null, i18n.t("ticket.incident_details")),
          facts([
            [i18n.t("ticket.occurred_at"), when(ctx, incident.occurred_at)],
            incident.game_name ? [i18n.t("ticket.game_name"), incident.game_name] : null,
            incident.payment_system ? [i18n.t("ticket.payment_system"), incident.payment_system] : null,
            incident.transaction_id ? [i18n.t("ticket.transaction_id"), incident.transaction_id] : null,
            incident.steps_tried.length
              ? [i18n.t("ticket.steps_tried"), h("ul", null, incident.steps_tried.map((step) => h("li", { class: "message" }, step)))]
              : null,
          ]),
        ]
      : null,
  );
}

function attachmentsSection(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n } = ctx;
  if (ticket.attachments.length === 0) return section("attachments", i18n.t("attachments.title"), h("p", null, i18n.t("attachments.empty")));
  const { wrap } = table(
    i18n.t("attachments.caption"),
    [i18n.t("attachments.type"), i18n.t("attachments.size"), i18n.t("attachments.checked"), i18n.t("attachments.link")],
    ticket.attachments.map((attachment, index) => [
      attachment.content_type,
      i18n.size(attachment.size),
      when(ctx, attachment.checked_at),
      // Staff get a presigned GET valid a few minutes: say until when, since an old page's
      // link stops working.
      attachment.url
        ? [
            h(
              "a",
              { href: attachment.url, target: "_blank", rel: "noopener noreferrer", id: `attachment-${index + 1}` },
              i18n.t("attachments.open", { n: index + 1, type: attachment.content_type }),
              " ",
              h("span", { class: "muted" }, i18n.t("common.new_tab")),
            ),
            attachment.expires_at ? h("p", { class: "muted" }, i18n.t("attachments.expires", { at: i18n.dateTime(attachment.expires_at) })) : null,
          ]
        : i18n.t("attachments.no_link"),
    ]),
  );
  return section("attachments", i18n.t("attachments.title"), wrap);
}

function messagesSection(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n } = ctx;
  if (ticket.messages.length === 0) return section("messages", i18n.t("messages.title"), h("p", null, i18n.t("messages.empty")));
  return section("messages", i18n.t("messages.title"), messageList(ctx, ticket.messages));
}

/** What was merged into this ticket, or where this one went: the duplicates' conversations stay readable here. */
function mergedSection(ctx: ConsoleContext, ticket: TicketRead): HTMLElement | null {
  const { i18n } = ctx;
  const merged = ticket.merged ?? [];
  if (!ticket.merged_into && merged.length === 0) return null;
  return section(
    "merged",
    i18n.t("merged.title"),
    ticket.merged_into
      ? h("p", { class: "notice", id: "merged-into" }, i18n.t("merged.into"), " ", h("a", { href: `#/ticket/${encodeURIComponent(ticket.merged_into)}` }, ticket.merged_into))
      : null,
    merged.map((duplicate) =>
      h(
        "article",
        { class: "card", "aria-labelledby": `merged-${duplicate.reference}` },
        h("h3", { id: `merged-${duplicate.reference}` }, i18n.t("merged.from", { reference: duplicate.reference })),
        h("p", { class: "message" }, duplicate.subject),
        h("p", { class: "muted" }, i18n.dateTime(duplicate.created_at)),
        duplicate.messages.length ? messageList(ctx, duplicate.messages) : h("p", null, i18n.t("messages.empty")),
        duplicate.attachments.map((attachment, index) =>
          h(
            "p",
            null,
            attachment.url
              ? h("a", { href: attachment.url, target: "_blank", rel: "noopener noreferrer" }, i18n.t("merged.attachment", { n: index + 1, type: attachment.content_type, size: i18n.size(attachment.size) }))
              : i18n.t("merged.attachment", { n: index + 1, type: attachment.content_type, size: i18n.size(attachment.size) }),
          ),
        ),
      ),
    ),
  );
}

// The API lists messages oldest first; kept in that order. An internal note says so in words,
// not only by its background.
function messageList(ctx: ConsoleContext, messages: S<"Message">[]): HTMLElement {
  const { i18n } = ctx;
  return h(
      "ol",
      { class: "timeline" },
      messages.map((message) =>
        h(
          "li",
          null,
          h(
            "article",
            { class: message.internal ? "card internal" : "card" },
            h(
              "p",
              { class: "row" },
              message.internal ? badge(i18n.t("messages.internal"), "warn") : null,
              h(
                "span",
                { class: "muted" },
                i18n.t("messages.by", {
                  kind: i18n.t(message.internal ? "messages.internal" : "messages.to_player"),
                  author: authorText(ctx, message.author),
                  at: i18n.dateTime(message.at),
                }),
              ),
            ),
            h("p", { class: "message" }, message.body),
          ),
        ),
      ),
  );
}

function promisesSection(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n } = ctx;
  const clocks = ticket.promises ?? [];
  const regulator = ticket.clocks?.regulator;
  const minutes = (value: number) => i18n.t("common.minutes", { minutes: value });
  return section(
    "promises",
    i18n.t("promises.title"),
    clocks.length
      ? table(
          i18n.t("promises.caption"),
          [
            i18n.t("promises.clock"),
            i18n.t("promises.state"),
            i18n.t("promises.budget"),
            i18n.t("promises.used"),
            i18n.t("promises.warn_at"),
            i18n.t("promises.due_at"),
            i18n.t("promises.outcome"),
          ],
          clocks.map((clock) => [
            label(ctx, "clock", clock.clock),
            label(ctx, "clock_state", clock.state),
            [
              minutes(clock.budget_minutes),
              clock.extended_minutes ? h("span", { class: "muted" }, ` (${i18n.t("promises.extended", { minutes: clock.extended_minutes })})`) : null,
            ],
            minutes(clock.used_minutes),
            when(ctx, clock.warn_at),
            when(ctx, clock.due_at),
            [
              clock.breached_at ? badge(i18n.t("promises.breached", { at: i18n.dateTime(clock.breached_at) }), "danger") : null,
              clock.met_at ? badge(i18n.t("promises.met", { at: i18n.dateTime(clock.met_at) }), "ok") : null,
            ],
          ]),
        ).wrap
      : h("p", null, i18n.t("promises.none")),
    regulator
      ? [
          h("h3", null, i18n.t("promises.regulator")),
          facts([
            [i18n.t("promises.regulator_limit"), when(ctx, regulator.limit_at)],
            [i18n.t("promises.regulator_notice"), when(ctx, regulator.notice_at)],
            regulator.noticed_at ? [i18n.t("promises.regulator_noticed"), when(ctx, regulator.noticed_at)] : null,
          ]),
        ]
      : null,
  );
}

function historySection(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n } = ctx;
  const lines = ticket.history ?? [];
  if (lines.length === 0) return section("history", i18n.t("history.title"), h("p", null, i18n.t("history.empty")));
  return section(
    "history",
    i18n.t("history.title"),
    h(
      "ol",
      { class: "timeline" },
      lines.map((line) =>
        h(
          "li",
          null,
          h("p", null, when(ctx, line.at)),
          h("p", null, i18n.t("history.line", { status: label(ctx, "status", line.status), reason: label(ctx, "reason", line.reason) }), " ", h("span", { class: "muted" }, i18n.t("history.by", { author: authorText(ctx, line.actor) }))),
          line.extended_minutes ? h("p", { class: "muted" }, i18n.t("history.extended", { minutes: line.extended_minutes })) : null,
        ),
      ),
    ),
  );
}

function escalationsSection(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n } = ctx;
  const escalations = ticket.escalations ?? [];
  if (escalations.length === 0) return section("escalations", i18n.t("escalations.title"), h("p", null, i18n.t("escalations.empty")));
  const { wrap } = table(
    i18n.t("escalations.caption"),
    [
      i18n.t("escalations.to"),
      i18n.t("escalations.from"),
      i18n.t("escalations.reason"),
      i18n.t("escalations.note"),
      i18n.t("escalations.state"),
      i18n.t("escalations.requested"),
      i18n.t("escalations.settled"),
    ],
    escalations.map((escalation) => [
      label(ctx, "team", escalation.to_team),
      label(ctx, "team", escalation.from_team),
      h("code", null, escalation.reason),
      escalation.note ? h("span", { class: "message" }, escalation.note) : i18n.t("common.none"),
      badge(label(ctx, "escalation_state", escalation.state), escalation.state === "routed" ? "ok" : escalation.state === "withdrawn" ? undefined : "warn"),
      [when(ctx, escalation.requested_at), " ", h("span", { class: "muted" }, i18n.t("history.by", { author: authorText(ctx, escalation.requested_by) }))],
      when(ctx, escalation.settled_at),
    ]),
  );
  return section("escalations", i18n.t("escalations.title"), wrap);
}

function notificationsSection(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n } = ctx;
  if (ticket.notifications.length === 0) return section("notifications", i18n.t("notifications.title"), h("p", null, i18n.t("notifications.empty")));
  // Each as the player read it, folded: the subject opens the exact text that was sent.
  return section(
    "notifications",
    i18n.t("notifications.title"),
    h(
      "ul",
      { class: "timeline" },
      ticket.notifications.map((notification) =>
        h(
          "li",
          null,
          h(
            "details",
            null,
            h("summary", null, notification.subject),
            h(
              "p",
              { class: "muted" },
              i18n.t("notifications.line", {
                kind: label(ctx, "notification", notification.kind),
                at: i18n.dateTime(notification.at),
                language: label(ctx, "language", notification.language),
              }),
            ),
            h("p", { class: "message" }, notification.body),
          ),
        ),
      ),
    ),
  );
}

// ---- Actions -------------------------------------------------------------------------------

/** The moves `POST …/status` accepts from each status (workflow.rs `allowed`, minus
 *  `escalated`, which only `escalate` reaches). */
const NEXT_STATUS: Record<Status, Status[]> = {
  open: ["waiting_on_player", "resolved"],
  waiting_on_player: ["open", "resolved"],
  escalated: ["resolved"],
  resolved: ["closed", "open"],
  closed: [],
};

function actionsSection(ctx: ConsoleContext, ticket: TicketRead, mine: boolean, saved: S<"SavedReply">[] | null): HTMLElement {
  const { i18n } = ctx;
  if (!mine) return section("actions", i18n.t("actions.title"), h("p", { class: "notice" }, i18n.t("actions.none")));
  const workable = ticket.status !== "resolved" && ticket.status !== "closed";
  return section(
    "actions",
    i18n.t("actions.title"),
    workable ? takeForm(ctx, ticket) : null,
    ticket.status !== "closed" ? replyForm(ctx, ticket, saved) : null,
    noteForm(ctx, ticket),
    NEXT_STATUS[ticket.status].length ? statusForm(ctx, ticket) : null,
    ticket.status === "open" || ticket.status === "waiting_on_player" ? escalateForm(ctx, ticket) : null,
    workable ? extensionForm(ctx, ticket) : null,
    // A resolved or closed ticket cannot be linked (incidents/rules.rs `link`).
    workable && !ticket.linked_incident ? linkForm(ctx, ticket) : null,
    ticket.status !== "closed" ? mergeForm(ctx, ticket) : null,
  );
}

/** The version and token every ticket action sends back. */
function basis(ticket: TicketRead): { version: number; state?: string } {
  return ticket.state ? { version: ticket.version, state: ticket.state } : { version: ticket.version };
}

/** A sub-section of the actions: its h3 (the focus target after it succeeds), alert, form. */
function action(
  ctx: ConsoleContext,
  ticket: TicketRead,
  id: string,
  title: string,
  fieldLabels: Record<string, string>,
  controls: Child[],
  send: () => Promise<string>,
): HTMLElement {
  const alert = alertBox();
  const form = h("form", { class: "stack", novalidate: true }, controls);
  onSubmit(
    ctx,
    form,
    alert,
    labels({ version: ctx.i18n.t("common.version"), state: ctx.i18n.t("common.state"), ...fieldLabels }),
    async () => {
      const text = await send();
      await renderTicket(ctx, ticket.reference, { section: id, text });
      return text;
    },
  );
  return h("section", { class: "card", "aria-labelledby": `${id}-title` }, h("h3", { id: `${id}-title` }, title), alert, form);
}

function takeForm(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n, api } = ctx;
  const taken = ticket.assignee === ctx.identity.sub;
  return action(
    ctx,
    ticket,
    "take",
    i18n.t("take.title"),
    {},
    [
      taken ? h("p", null, i18n.t("take.mine")) : null,
      taken ? null : h("button", { type: "submit", id: "take" }, i18n.t("take.submit")),
    ],
    async () => {
      await api.post("/tickets/{reference}/take", { params: { reference: ticket.reference }, body: basis(ticket) });
      return i18n.t("done.take");
    },
  );
}

function replyForm(ctx: ConsoleContext, ticket: TicketRead, saved: S<"SavedReply">[] | null): HTMLElement {
  const { i18n, api } = ctx;
  const body = h("textarea", { id: "reply-body", rows: 8 });
  const picker = h(
    "select",
    { id: "reply-saved" },
    h("option", { value: "" }, i18n.t("reply.saved_choose")),
    (saved ?? []).map((reply) => h("option", { value: reply.id }, reply.title)),
  );
  // Choosing a saved reply puts its text in the reply for editing; nothing is sent until the
  // agent presses Send. Focus stays on the list (no change of context).
  picker.addEventListener("change", () => {
    const reply = saved?.find((candidate) => candidate.id === picker.value);
    if (!reply) return;
    body.value = reply.body;
    body.dispatchEvent(new Event("input"));
    announce(ctx.frame, i18n.t("done.saved_reply", { title: reply.title }));
  });
  const language = label(ctx, "language", ticket.language);
  return action(
    ctx,
    ticket,
    "reply",
    i18n.t("reply.title"),
    { body: i18n.t("reply.body") },
    [
      saved && saved.length
        ? field(i18n.t("reply.saved", { language }), picker, { hint: i18n.t("reply.saved_hint") })
        : h("p", { class: "muted" }, i18n.t("reply.saved_unavailable")),
      field(i18n.t("reply.body"), body, { name: "body", hint: i18n.t("reply.body_hint") }),
      h("button", { type: "submit", id: "reply-send" }, i18n.t("reply.submit")),
    ],
    async () => {
      await api.post("/tickets/{reference}/replies", { params: { reference: ticket.reference }, body: { ...basis(ticket), body: body.value } });
      return i18n.t("done.reply");
    },
  );
}

function noteForm(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n, api } = ctx;
  const body = h("textarea", { id: "note-body", rows: 5 });
  return action(
    ctx,
    ticket,
    "note",
    i18n.t("note.title"),
    { body: i18n.t("note.body") },
    [field(i18n.t("note.body"), body, { name: "body", hint: i18n.t("note.body_hint") }), h("button", { type: "submit", id: "note-send", class: "secondary" }, i18n.t("note.submit"))],
    async () => {
      await api.post("/tickets/{reference}/notes", { params: { reference: ticket.reference }, body: { ...basis(ticket), body: body.value } });
      return i18n.t("done.note");
    },
  );
}

function statusForm(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n, api } = ctx;
  const targets = NEXT_STATUS[ticket.status] as Array<"open" | "waiting_on_player" | "resolved" | "closed">;
  const to = h("select", { id: "status-value" }, targets.map((status) => h("option", { value: status }, label(ctx, "status", status))));
  const reason = h("input", { id: "status-reason", type: "text", autocomplete: "off", spellcheck: "false" });
  return action(
    ctx,
    ticket,
    "status",
    i18n.t("status.title"),
    { status: i18n.t("status.to"), reason: i18n.t("status.reason") },
    [
      field(i18n.t("status.to"), to, { name: "status" }),
      field(i18n.t("status.reason"), reason, { name: "reason", hint: i18n.t("status.reason_hint") }),
      h("button", { type: "submit", id: "status-send" }, i18n.t("status.submit")),
    ],
    async () => {
      const status = targets.find((candidate) => candidate === to.value) ?? targets[0] ?? "open";
      const code = reason.value.trim();
      await api.post("/tickets/{reference}/status", {
        params: { reference: ticket.reference },
        body: { ...basis(ticket), status, ...(code ? { reason: code } : {}) },
      });
      return i18n.t("done.status", { status: label(ctx, "status", status) });
    },
  );
}

function escalateForm(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n, api } = ctx;
  // The ticket's own team first is pointless: preselect the first other specialist team.
  const preselected = SPECIALIST_TEAMS.find((team) => team !== ticket.team);
  const team = h(
    "select",
    { id: "escalate-team" },
    SPECIALIST_TEAMS.map((candidate) => h("option", { value: candidate, selected: candidate === preselected }, label(ctx, "team", candidate))),
  );
  const reason = h("input", { id: "escalate-reason", type: "text", autocomplete: "off", spellcheck: "false" });
  const note = h("textarea", { id: "escalate-note", rows: 4 });
  return action(
    ctx,
    ticket,
    "escalate",
    i18n.t("escalate.title"),
    { team: i18n.t("escalate.team"), reason: i18n.t("escalate.reason"), note: i18n.t("escalate.note") },
    [
      field(i18n.t("escalate.team"), team, { name: "team" }),
      field(i18n.t("escalate.reason"), reason, { name: "reason", hint: i18n.t("escalate.reason_hint") }),
      field(i18n.t("escalate.note"), note, { name: "note", hint: i18n.t("escalate.note_hint") }),
      h("button", { type: "submit", id: "escalate-send" }, i18n.t("escalate.submit")),
    ],
    async () => {
      const to = SPECIALIST_TEAMS.find((candidate) => candidate === team.value) ?? "technical";
      const text = note.value.trim();
      await api.post("/tickets/{reference}/escalate", {
        params: { reference: ticket.reference },
        body: { ...basis(ticket), team: to, reason: reason.value.trim(), ...(text ? { note: note.value } : {}) },
      });
      return i18n.t("done.escalate", { team: label(ctx, "team", to) });
    },
  );
}

function extensionForm(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n, api } = ctx;
  const days = h("input", { id: "extension-days", type: "number", min: 1, max: 30, step: 1, inputmode: "numeric" });
  const until = h("input", { id: "extension-until", type: "date" });
  const reason = h("input", { id: "extension-reason", type: "text", autocomplete: "off", spellcheck: "false" });
  return action(
    ctx,
    ticket,
    "extension",
    i18n.t("extension.title"),
    { business_days: i18n.t("extension.days"), until: i18n.t("extension.until"), reason: i18n.t("extension.reason") },
    [
      h("p", null, i18n.t("extension.intro")),
      field(i18n.t("extension.days"), days, { name: "business_days", hint: i18n.t("extension.days_hint") }),
      field(i18n.t("extension.until"), until, { name: "until", hint: i18n.t("extension.until_hint") }),
      field(i18n.t("extension.reason"), reason, { name: "reason", hint: i18n.t("extension.reason_hint") }),
      h("button", { type: "submit", id: "extension-send" }, i18n.t("extension.submit")),
    ],
    async () => {
      // Whatever was filled in is sent; the API says which one to give when it is neither or
      // both (`one_of_fields`), in the page's language.
      await api.post("/tickets/{reference}/extension", {
        params: { reference: ticket.reference },
        body: {
          ...basis(ticket),
          reason: reason.value.trim(),
          ...(days.value !== "" ? { business_days: Number(days.value) } : {}),
          ...(until.value ? { until: until.value } : {}),
        },
      });
      return i18n.t("done.extension");
    },
  );
}

function linkForm(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n, api } = ctx;
  const incident = h("input", { id: "link-incident", type: "text", autocomplete: "off", spellcheck: "false" });
  return action(
    ctx,
    ticket,
    "link",
    i18n.t("link.title"),
    { incident_id: i18n.t("link.incident"), reference: i18n.t("ticket.reference") },
    [
      field(i18n.t("link.incident"), incident, { name: "incident_id", hint: i18n.t("link.incident_hint") }),
      h("button", { type: "submit", id: "link-send" }, i18n.t("link.submit")),
    ],
    async () => {
      const id = incident.value.trim();
      // The id is in the path: an empty one would be a different route, so say it is required
      // the way the API words a missing field.
      if (!id) throw new ApiError(400, { error: "validation_failed", field: "incident_id", rule: "required", message: "incident_id is required" });
      await api.post("/incidents/{incident_id}/links", {
        params: { incident_id: id },
        body: { reference: ticket.reference, ...(ticket.state ? { ticket_state: ticket.state } : {}) },
      });
      return i18n.t("done.link", { id: id.toUpperCase() });
    },
  );
}

function mergeForm(ctx: ConsoleContext, ticket: TicketRead): HTMLElement {
  const { i18n, api } = ctx;
  const into = h("input", { id: "merge-into", type: "text", autocomplete: "off", spellcheck: "false" });
  // One key per target: a retry after a lost answer is recognised and changes nothing.
  const keys = new Map<string, string>();
  return action(
    ctx,
    ticket,
    "merge",
    i18n.t("merge.title"),
    { into: i18n.t("merge.into") },
    [
      field(i18n.t("merge.into"), into, { name: "into", hint: i18n.t("merge.hint") }),
      h("button", { type: "submit", id: "merge-send", class: "secondary" }, i18n.t("merge.submit")),
    ],
    async () => {
      const target = into.value.trim().toUpperCase();
      const key = keys.get(target) ?? newIdempotencyKey();
      keys.set(target, key);
      await api.post("/tickets/{reference}/merge", { params: { reference: ticket.reference }, body: { into: target }, idempotencyKey: key });
      return i18n.t("done.merge", { reference: target });
    },
  );
}
