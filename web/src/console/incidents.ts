// Multi-player incidents: a team's current ones (`#/incidents/<team>`) and one incident
// (`#/incident/<id>`) with its linked tickets, its updates, and the team's actions on it.
// Staff only, and only for the teams they work for (incidents/service.rs `works_for`); a
// resolved incident is final: no more status change, link or unlink (incidents/rules.rs).
import { field, h, type Child, show } from "../shared/dom";
import { alertBox } from "../shared/errors";
import type { S } from "../shared/schema";
import { isStaff, myTeams, worksFor, type ConsoleContext } from "./context";
import { teamPicker } from "./queue";
import { authorText, badge, denied, facts, focusById, heading, label, labels, loadFailed, loading, moreButton, onSubmit, row, table, when } from "./ui";

type Incident = S<"Incident">;
type IncidentStatus = S<"IncidentStatus">;

function statusBadge(ctx: ConsoleContext, status: IncidentStatus): HTMLSpanElement {
  return badge(label(ctx, "incident_status", status), status === "open" ? "danger" : status === "monitoring" ? "warn" : "ok");
}

function subjectText(ctx: ConsoleContext, incident: Incident): string {
  return ctx.i18n.t("incident.subject_text", { kind: label(ctx, "subject_kind", incident.subject.kind), name: incident.subject.name });
}

export async function renderIncidents(ctx: ConsoleContext, asked: string | undefined): Promise<void> {
  const { i18n, api } = ctx;
  const teams = isStaff(ctx.identity) ? myTeams(ctx.identity) : [];
  // Incidents belong to the games or payments team: open one of those first when the caller
  // works for it (a supervisor works for all six).
  const team = asked === undefined ? (teams.find((t) => t === "games" || t === "payments") ?? teams[0]) : teams.find((t) => t === asked);
  if (!team) return denied(ctx);
  if (asked === undefined) history.replaceState(null, "", `#/incidents/${team}`);
  const teamName = label(ctx, "team", team);
  const content = h("div", { class: "stack" }, loading(ctx));
  show(ctx.frame.main, heading(i18n.t("incidents.title", { team: teamName })), teamPicker(ctx, teams, team, "incidents"), content);
  let page: S<"CurrentPage">;
  try {
    page = await api.get("/incidents", { query: { team, limit: 20 } });
  } catch (error) {
    content.replaceChildren(loadFailed(ctx, error, () => void renderIncidents(ctx, team)));
    return;
  }
  if (page.incidents.length === 0) {
    content.replaceChildren(h("p", null, i18n.t("incidents.empty")));
    return;
  }
  const { wrap, body } = table(
    i18n.t("incidents.caption", { team: teamName }),
    [i18n.t("incidents.id"), i18n.t("incidents.subject"), i18n.t("incidents.status"), i18n.t("incidents.opened"), i18n.t("incidents.reports"), i18n.t("incidents.updated")],
    [],
  );
  const append = (incidents: Incident[]): HTMLElement | null => {
    const rows = incidents.map((incident) =>
      row([
        h("a", { href: `#/incident/${encodeURIComponent(incident.id)}` }, incident.id),
        subjectText(ctx, incident),
        statusBadge(ctx, incident.status),
        when(ctx, incident.created_at),
        String(incident.reports_at_opening),
        when(ctx, incident.updated_at),
      ]),
    );
    body.append(...rows);
    return rows[0]?.querySelector("a") ?? null;
  };
  append(page.incidents);
  const more = moreButton(
    ctx,
    page.next_cursor,
    async (cursor) => {
      const next = await api.get("/incidents", { query: { team, limit: 20, cursor } });
      return { items: next.incidents, next: next.next_cursor };
    },
    append,
  );
  content.replaceChildren(wrap, more);
}

interface Flash {
  section: string;
  text: string;
}

export async function renderIncident(ctx: ConsoleContext, id: string, flash?: Flash): Promise<void> {
  const { i18n, api } = ctx;
  if (!isStaff(ctx.identity)) return denied(ctx);
  const main = ctx.frame.main;
  main.replaceChildren(heading(i18n.t("incident.title", { id })), loading(ctx));
  let view: S<"IncidentView">;
  try {
    view = await api.get("/incidents/{incident_id}", { params: { incident_id: id } });
  } catch (error) {
    main.replaceChildren(heading(i18n.t("incident.title", { id })), loadFailed(ctx, error, () => void renderIncident(ctx, id)));
    return;
  }
  const incident = view.incident;
  // Acting needs the incident's team (and, for a link, the ticket's: the API checks that one).
  const acts = worksFor(ctx.identity, incident.team) && incident.status !== "resolved";
  show(
    main,
    heading(i18n.t("incident.title", { id: incident.id })),
    h(
      "section",
      { "aria-labelledby": "incident-facts-title" },
      h("h2", { id: "incident-facts-title", class: "visually-hidden" }, i18n.t("ticket.facts")),
      facts([
        [i18n.t("incident.subject"), subjectText(ctx, incident)],
        [i18n.t("incident.status"), statusBadge(ctx, incident.status)],
        [i18n.t("incident.team"), label(ctx, "team", incident.team)],
        [i18n.t("incident.opened"), when(ctx, incident.created_at)],
        incident.resolved_at ? [i18n.t("incident.resolved"), when(ctx, incident.resolved_at)] : null,
        [
          i18n.t("incident.rule"),
          i18n.t("incident.rule_text", { threshold: incident.threshold, minutes: incident.window_minutes, start: i18n.dateTime(incident.window_start) }),
        ],
        [
          i18n.t("incident.escalation"),
          [
            h("a", { href: `#/ticket/${encodeURIComponent(incident.escalation.reference)}` }, incident.escalation.reference),
            " ",
            badge(label(ctx, "escalation_progress", incident.escalation.state)),
          ],
        ],
        [i18n.t("common.version"), String(incident.version)],
      ]),
    ),
    linksSection(ctx, view, acts),
    acts ? linkForm(ctx, view) : null,
    statusSection(ctx, view, acts),
    updatesSection(ctx, view),
  );
  if (flash) {
    const target = document.getElementById(`${flash.section}-title`) ? `${flash.section}-title` : "incident-links-title";
    document.getElementById(target)?.after(h("p", { class: "notice ok" }, flash.text));
    focusById(main, target);
  }
}

function linksSection(ctx: ConsoleContext, view: S<"IncidentView">, acts: boolean): HTMLElement {
  const { i18n, api } = ctx;
  const title = h("h2", { id: "incident-links-title" }, i18n.t("incident.links"));
  if (view.links.length === 0) return h("section", { "aria-labelledby": title.id }, title, h("p", null, i18n.t("incident.links_empty")));
  // One alert above the table for whichever unlink failed.
  const alert = alertBox();
  const head = [i18n.t("ticket.reference"), i18n.t("incident.linked_at"), i18n.t("incident.linked_by")];
  const { wrap } = table(
    i18n.t("incident.links_caption"),
    acts ? [...head, i18n.t("actions.title")] : head,
    view.links.map((link) => {
      const cells: Child[] = [
        h("a", { href: `#/ticket/${encodeURIComponent(link.reference)}` }, link.reference),
        when(ctx, link.linked_at),
        authorText(ctx, link.linked_by),
      ];
      if (acts) {
        const form = h(
          "form",
          { novalidate: true },
          h("button", { type: "submit", class: "secondary", id: `unlink-${link.reference}` }, i18n.t("incident.unlink", { reference: link.reference })),
        );
        onSubmit(ctx, form, alert, labels({ reference: i18n.t("ticket.reference"), state: i18n.t("common.state") }), async () => {
          await api.delete("/incidents/{incident_id}/links/{reference}", {
            params: { incident_id: view.incident.id, reference: link.reference },
            body: view.state ? { state: view.state } : {},
          });
          const text = i18n.t("done.unlink", { reference: link.reference });
          await renderIncident(ctx, view.incident.id, { section: "incident-links", text });
          return text;
        });
        cells.push(form);
      }
      return cells;
    }),
  );
  return h("section", { "aria-labelledby": title.id }, title, alert, wrap);
}

function linkForm(ctx: ConsoleContext, view: S<"IncidentView">): HTMLElement {
  const { i18n, api } = ctx;
  const alert = alertBox();
  const reference = h("input", { id: "incident-link-reference", type: "text", autocomplete: "off", spellcheck: "false" });
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    field(i18n.t("incident.link_reference"), reference, { name: "reference", hint: i18n.t("incident.link_reference_hint") }),
    h("button", { type: "submit", id: "incident-link-send" }, i18n.t("incident.link_submit")),
  );
  onSubmit(ctx, form, alert, labels({ reference: i18n.t("incident.link_reference"), state: i18n.t("common.state") }), async () => {
    const typed = reference.value.trim();
    await api.post("/incidents/{incident_id}/links", {
      params: { incident_id: view.incident.id },
      body: { reference: typed, ...(view.state ? { state: view.state } : {}) },
    });
    const text = i18n.t("done.link", { id: view.incident.id });
    await renderIncident(ctx, view.incident.id, { section: "incident-link", text });
    return text;
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "incident-link-title" },
    h("h2", { id: "incident-link-title" }, i18n.t("incident.link_title")),
    alert,
    form,
  );
}

/** `open ⇄ monitoring`, `open | monitoring → resolved` (incidents/rules.rs `allowed_move`). */
const NEXT: Record<IncidentStatus, IncidentStatus[]> = {
  open: ["monitoring", "resolved"],
  monitoring: ["open", "resolved"],
  resolved: [],
};

function statusSection(ctx: ConsoleContext, view: S<"IncidentView">, acts: boolean): HTMLElement | null {
  const { i18n, api } = ctx;
  const incident = view.incident;
  const title = h("h2", { id: "incident-status-title" }, i18n.t("incident.status_title"));
  if (incident.status === "resolved") return h("section", { "aria-labelledby": title.id }, title, h("p", { class: "notice" }, i18n.t("incident.final")));
  if (!acts) return null;
  const targets = NEXT[incident.status];
  const alert = alertBox();
  const to = h("select", { id: "incident-status-value" }, targets.map((status) => h("option", { value: status }, label(ctx, "incident_status", status))));
  const note = h("textarea", { id: "incident-status-note", rows: 4 });
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    field(i18n.t("incident.status_to"), to, { name: "status" }),
    field(i18n.t("incident.status_note"), note, { name: "note", hint: i18n.t("incident.status_note_hint") }),
    h("button", { type: "submit", id: "incident-status-send" }, i18n.t("incident.status_submit")),
  );
  onSubmit(
    ctx,
    form,
    alert,
    labels({ status: i18n.t("incident.status_to"), note: i18n.t("incident.status_note"), version: i18n.t("common.version"), state: i18n.t("common.state") }),
    async () => {
      const status = targets.find((candidate) => candidate === to.value) ?? "resolved";
      const text = note.value.trim() ? note.value : null;
      await api.post("/incidents/{incident_id}/status", {
        params: { incident_id: incident.id },
        body: { version: incident.version, status, ...(text ? { note: text } : {}), ...(view.state ? { state: view.state } : {}) },
      });
      const done = i18n.t("done.incident_status", { status: label(ctx, "incident_status", status) });
      await renderIncident(ctx, incident.id, { section: "incident-status", text: done });
      return done;
    },
  );
  return h("section", { class: "card", "aria-labelledby": title.id }, title, alert, form);
}

function updatesSection(ctx: ConsoleContext, view: S<"IncidentView">): HTMLElement {
  const { i18n } = ctx;
  const title = h("h2", { id: "incident-updates-title" }, i18n.t("incident.updates"));
  if (view.updates.length === 0) return h("section", { "aria-labelledby": title.id }, title, h("p", null, i18n.t("incident.updates_empty")));
  return h(
    "section",
    { "aria-labelledby": title.id },
    title,
    h(
      "ol",
      { class: "timeline" },
      view.updates.map((update) =>
        h(
          "li",
          null,
          h(
            "p",
            null,
            i18n.t("incident.update_line", {
              from: label(ctx, "incident_status", update.from),
              to: label(ctx, "incident_status", update.status),
              at: i18n.dateTime(update.at),
              author: authorText(ctx, update.by),
            }),
          ),
          // The staff note never reaches players; marked in words as such.
          update.note ? h("p", { class: "message card internal" }, h("strong", null, i18n.t("messages.internal_prefix")), update.note) : null,
        ),
      ),
    ),
  );
}
