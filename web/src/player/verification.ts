// My verification: what is required, what arrived, what must be sent again and why, an upload
// with progress for each document to send, and what stays blocked until the case is approved.
import { ApiError } from "../shared/api";
import { field, h, show } from "../shared/dom";
import { alertBox, clearFormError, showFormError } from "../shared/errors";
import type { S } from "../shared/schema";
import { announce } from "../shared/shell";
import { acceptedType, ACCEPTED_TYPES, putPresigned } from "../shared/upload";
import type { PlayerContext } from "./context";
import type { PlayerText } from "./text";

const SHOWN: S<"GatedAction">[] = ["withdrawal", "bonus_redemption", "payment_method_change", "account_change"];

export async function renderVerification(context: PlayerContext): Promise<void> {
  const { api, i18n, frame } = context;
  let verification: S<"PlayerCase"> | null = null;
  try {
    verification = await api.get("/verification/case");
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) {
      show(frame.main, h("h1", null, i18n.t("verif.title")), h("p", { class: "alert", role: "alert" }, i18n.t("error.network")));
      return;
    }
  }
  // The gate's own answers, read with the case: what stays blocked until it is approved.
  const gates = (verification?.gates ?? []).filter((gate) => SHOWN.includes(gate.action));
  show(
    frame.main,
    h("h1", null, i18n.t("verif.title")),
    verification ? caseView(context, verification) : h("p", { class: "notice" }, i18n.t("verif.none")),
    gates.length
      ? [
          h("h2", null, i18n.t("verif.blocked")),
          h("p", null, i18n.t("verif.blocked_intro")),
          h(
            "ul",
            { id: "gates" },
            gates.map((gate) =>
              h(
                "li",
                null,
                `${i18n.t(`action.${gate.action}` as keyof PlayerText)}${i18n.t("verif.separator")}`,
                h("span", { class: `badge ${gate.allowed ? "ok" : "danger"}` }, i18n.t(gate.allowed ? "verif.allowed" : "verif.not_allowed")),
              ),
            ),
          ),
        ]
      : null,
  );
}

function caseView(context: PlayerContext, verification: S<"PlayerCase">): HTMLElement[] {
  const { i18n } = context;
  return [
    h("p", { class: "notice", id: "case-status" }, h("strong", null, `${i18n.t("verif.status")}${i18n.t("verif.separator")}`), h("span", { lang: verification.language }, verification.status_text)),
    verification.message
      ? h("section", { class: "card", id: "reviewer-message" }, h("h2", null, i18n.t("verif.message")), h("p", { class: "message", lang: verification.language }, verification.message))
      : (null as unknown as HTMLElement),
    h("h2", null, i18n.t("verif.documents")),
    ...verification.documents.map((document) => documentCard(context, document, verification.language)),
  ].filter(Boolean);
}

function documentCard(context: PlayerContext, document: S<"PlayerDocument">, language: S<"Language">): HTMLElement {
  const { i18n } = context;
  return h(
    "section",
    { class: "card", id: `document-${document.kind}`, "aria-labelledby": `document-${document.kind}-title` },
    h("h3", { id: `document-${document.kind}-title`, lang: language }, document.kind_text),
    h("p", { lang: language }, h("span", { class: `badge ${document.to_send ? "warn" : document.status === "accepted" ? "ok" : ""}` }, document.status_text)),
    document.received_at ? h("p", { class: "muted" }, i18n.t("verif.received", { at: i18n.dateTime(document.received_at) })) : null,
    document.reasons.length
      ? [h("p", null, i18n.t("verif.why")), h("ul", { class: "reasons", lang: language }, document.reasons.map((reason) => h("li", null, reason.text)))]
      : null,
    document.check_failure ? h("p", { lang: language }, `${i18n.t("verif.check_failure")} ${document.check_failure.text}`) : null,
    document.to_send ? uploadForm(context, document) : null,
  );
}

function uploadForm(context: PlayerContext, document: S<"PlayerDocument">): HTMLFormElement {
  const { api, i18n, frame } = context;
  const input = h("input", { type: "file", accept: ACCEPTED_TYPES.join(","), id: `upload-${document.kind}` });
  const bar = h("progress", { max: 1, value: 0, hidden: true, "aria-label": i18n.t("verif.upload", { kind: document.kind_text }) });
  const alert = alertBox();
  const send = h("button", { type: "submit", id: `upload-${document.kind}-send` }, i18n.t("verif.upload", { kind: document.kind_text }));
  const label = (name: string) => (["content_type", "size", "file"].includes(name) ? i18n.t("verif.upload_label", { kind: document.kind_text }) : undefined);
  const form = h("form", { class: "stack", novalidate: true }, alert, field(i18n.t("verif.upload_label", { kind: document.kind_text }), input, { name: "file", hint: i18n.t("field.screenshots_hint") }), bar, send);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      clearFormError(form, alert);
      const file = input.files?.[0];
      const type = file ? acceptedType(file) : null;
      if (!file || !type) {
        showFormError(form, alert, null, i18n, label);
        alert.querySelector("p")!.textContent = file ? i18n.t("error.file_type", { name: file.name }) : i18n.t("rule.required", { field: i18n.t("verif.upload_label", { kind: document.kind_text }) });
        return;
      }
      send.disabled = true;
      bar.hidden = false;
      try {
        const presigned = await api.post("/verification/documents", { body: { kind: document.kind, content_type: type, size: file.size } });
        await putPresigned(presigned, file, (fraction) => {
          bar.value = fraction;
        });
        const done = i18n.t("verif.uploaded", { kind: document.kind_text });
        form.replaceWith(h("p", { class: "notice ok", id: `uploaded-${document.kind}` }, done));
        announce(frame, done);
      } catch (error) {
        showFormError(form, alert, error, i18n, label);
      } finally {
        send.disabled = false;
      }
    })();
  });
  return form;
}
