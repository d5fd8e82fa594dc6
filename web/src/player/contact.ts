// The contact form: category, subject and description, the incident's details when the category
// asks for them, screenshots sent straight to S3 on presigned URLs, then the acknowledgement with
// the reference and the time the desk promises an answer by.
import { newIdempotencyKey } from "../shared/api";
import { field, h, show } from "../shared/dom";
import { alertBox, clearFormError, showFormError } from "../shared/errors";
import type { S } from "../shared/schema";
import { announce, go } from "../shared/shell";
import { acceptedType, ACCEPTED_TYPES, putPresigned } from "../shared/upload";
import type { PlayerContext } from "./context";
import { chatNow, fetchHours } from "./hours";
import type { PlayerText } from "./text";

const CATEGORIES: S<"Category">[] = ["technical", "account", "transaction", "verification", "incident", "complaint"];
const MAX_FILE_BYTES = 10 * 1024 * 1024;

type NewTicket = { category: S<"Category">; channel: "form"; subject: string; description: string; language: S<"Language">; incident?: Record<string, unknown> };

export async function renderContact(context: PlayerContext): Promise<void> {
  const { i18n, api, frame } = context;
  const hours = await fetchHours(api, i18n);
  const label = (name: string): string | undefined => {
    const key = `field.${name.replace(/^incident\./, "")}`;
    return name === "incident" ? i18n.t("field.incident") : i18n.maybe(key);
  };

  const category = h("select", null, CATEGORIES.map((c) => h("option", { value: c }, i18n.t(`category.${c}` as keyof PlayerText))));
  const subject = h("input", { type: "text", autocomplete: "off", maxlength: 200, required: true });
  const description = h("textarea", { required: true, maxlength: 5000 });
  const occurredAt = h("input", { type: "datetime-local" });
  const gameName = h("input", { type: "text", maxlength: 100 });
  const paymentSystem = h("input", { type: "text", maxlength: 100 });
  const transactionId = h("input", { type: "text", maxlength: 64 });
  const stepsTried = h("textarea", { rows: 3 });
  const files = h("input", { type: "file", multiple: true, accept: ACCEPTED_TYPES.join(",") });
  const incident = h(
    "fieldset",
    { hidden: true, "data-field": "incident" },
    h("legend", null, i18n.t("field.incident")),
    h("p", { class: "hint" }, i18n.t("field.incident_hint")),
    h("p", { class: "field-error", hidden: true }),
    field(i18n.t("field.occurred_at"), occurredAt, { name: "incident.occurred_at", hint: i18n.t("field.occurred_at_hint") }),
    field(i18n.t("field.game_name"), gameName, { name: "incident.game_name" }),
    field(i18n.t("field.payment_system"), paymentSystem, { name: "incident.payment_system" }),
    field(i18n.t("field.transaction_id"), transactionId, { name: "incident.transaction_id" }),
    field(i18n.t("field.steps_tried"), stepsTried, { name: "incident.steps_tried", hint: i18n.t("field.steps_tried_hint") }),
  );
  const syncIncident = () => {
    incident.hidden = category.value !== "incident";
  };
  category.addEventListener("change", syncIncident);
  const alert = alertBox();
  const progress = h("div", { class: "stack", "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "contact-submit" }, i18n.t("contact.submit"));

  // One key per distinct request: a retry of the same request (a lost answer) is recognised by
  // the API and changes nothing; a corrected request is a new one.
  let lastPayload = "";
  let key = newIdempotencyKey();

  const form = h(
    "form",
    { class: "stack", novalidate: true, "aria-describedby": "contact-intro" },
    alert,
    field(i18n.t("field.category"), category, { name: "category" }),
    field(i18n.t("field.subject"), subject, { name: "subject" }),
    field(i18n.t("field.description"), description, { name: "description", hint: i18n.t("field.description_hint") }),
    incident,
    field(i18n.t("field.screenshots"), files, { name: "screenshots", hint: i18n.t("field.screenshots_hint") }),
    progress,
    submit,
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void send();
  });

  async function send(): Promise<void> {
    clearFormError(form, alert);
    const chosen = Array.from(files.files ?? []);
    for (const file of chosen) {
      const problem = !acceptedType(file) ? "error.file_type" : file.size > MAX_FILE_BYTES || file.size === 0 ? "error.file_size" : null;
      if (problem) {
        showFormError(form, alert, null, i18n, label);
        alert.querySelector("p")!.textContent = i18n.t(problem, { name: file.name });
        return;
      }
    }
    const payload: NewTicket = {
      channel: "form",
      category: category.value as S<"Category">,
      subject: subject.value,
      description: description.value,
      language: i18n.language,
    };
    if (payload.category === "incident") {
      const steps = stepsTried.value.split("\n").map((s) => s.trim()).filter(Boolean);
      payload.incident = {
        occurred_at: occurredAt.value ? toRfc3339(occurredAt.value) : "",
        game_name: gameName.value.trim() || null,
        payment_system: paymentSystem.value.trim() || null,
        transaction_id: transactionId.value.trim() || null,
        steps_tried: steps,
      };
    }
    const text = JSON.stringify(payload);
    if (text !== lastPayload) {
      lastPayload = text;
      key = newIdempotencyKey();
    }
    submit.disabled = true;
    announce(frame, i18n.t("contact.sending"));
    try {
      const receipt = await api.post("/tickets", { body: payload as never, idempotencyKey: key });
      const sent = await uploadAll(context, receipt.reference, chosen, progress);
      received.set(receipt.reference, { receipt, attachments: sent });
      // Its own address, so a language switch or a reload keeps the acknowledgement on screen.
      go(`received/${encodeURIComponent(receipt.reference)}`);
    } catch (error) {
      showFormError(form, alert, error, i18n, label);
    } finally {
      submit.disabled = false;
    }
  }

  show(frame.main, h("h1", null, i18n.t("contact.title")), chatNow(hours, i18n), h("p", { id: "contact-intro" }, i18n.t("contact.intro")), form);
  syncIncident();
}

/** `2026-11-26T15:04` typed in the player's time zone, as the API's UTC instant with seconds. */
function toRfc3339(local: string): string {
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

async function uploadAll(context: PlayerContext, reference: string, files: File[], progress: HTMLElement): Promise<number> {
  const { api, i18n } = context;
  let sent = 0;
  for (const file of files) {
    const type = acceptedType(file);
    if (!type) continue;
    const bar = h("progress", { max: 1, value: 0, "aria-label": i18n.t("contact.uploading", { name: file.name }) });
    progress.append(h("div", null, h("span", null, i18n.t("contact.uploading", { name: file.name })), bar));
    const presigned = await api.post("/tickets/{reference}/attachments", { params: { reference }, body: { content_type: type, size: file.size } });
    await putPresigned(presigned, file, (fraction) => {
      bar.value = fraction;
    });
    sent += 1;
  }
  return sent;
}

/** The receipts of this visit, by reference: the acknowledgement as the API worded it. */
const received = new Map<string, { receipt: S<"Receipt">; attachments: number }>();

export async function renderReceived(context: PlayerContext, reference: string): Promise<void> {
  const { i18n, frame, api } = context;
  const kept = received.get(reference);
  let due: string | null | undefined = kept?.receipt.response_target.due_at;
  if (!kept) {
    try {
      const ticket = await api.get("/tickets/{reference}", { params: { reference } });
      due = ticket.expected_answer_at;
    } catch {
      go(`tickets/${encodeURIComponent(reference)}`);
      return;
    }
  }
  show(
    frame.main,
    h("h1", null, i18n.t("ack.title")),
    h(
      "div",
      { class: "notice ok", id: "acknowledgement" },
      h("p", null, h("strong", { id: "ack-reference" }, i18n.t("ack.reference", { reference }))),
      due ? h("p", { id: "ack-expected" }, i18n.t("ack.expected", { due: i18n.dateTime(due) })) : null,
      kept ? h("p", { class: "message", lang: kept.receipt.language }, kept.receipt.acknowledgement) : null,
      kept?.attachments ? h("p", null, i18n.t("ack.attachments", { count: kept.attachments })) : null,
    ),
    h("p", { class: "row" }, h("a", { href: `#/tickets/${encodeURIComponent(reference)}`, class: "button" }, i18n.t("ack.view")), h("a", { href: "#/contact" }, i18n.t("ack.another"))),
  );
  announce(frame, i18n.t("ack.reference", { reference }));
}
