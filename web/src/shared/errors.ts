// Every refusal of the API in the page's language: a bad field is named by the label the person
// sees next to it (never the JSON path), with the rule it breaks; any other refusal by its code.
import { ApiError } from "./api";
import { clearMarks, h, markField, show } from "./dom";
import type { CommonText } from "./common-text";
import type { I18n } from "./i18n";
import { UploadError } from "./upload";

export interface Explained {
  text: string;
  /** The API's field (dotted path) at fault, if any. */
  field?: string;
}

/** Words an error; `label` names an API field as the form shows it. */
export function explain(
  error: unknown,
  i18n: I18n<CommonText>,
  label: (field: string) => string | undefined,
): Explained {
  if (error instanceof UploadError) return { text: i18n.t("error.upload", { status: error.status }) };
  if (!(error instanceof ApiError)) return { text: i18n.t("error.internal") };
  if (error.status === 0) return { text: i18n.t("error.network") };
  const body = error.body;
  if (!body) return { text: i18n.t("error.other", { status: error.status }) };
  if (body.field && (body.error === "validation_failed" || body.rule)) {
    const name = prefixes(body.field).map(label).find((found) => found !== undefined) ?? body.field;
    const vars: Record<string, string | number> = { field: name };
    for (const key of ["min", "max", "days"] as const) {
      const value = body[key];
      if (typeof value === "number") vars[key] = value;
    }
    const text = i18n.maybe(`rule.${body.rule ?? "other"}`, vars) ?? i18n.t("rule.other", vars);
    return { text, field: body.field };
  }
  const text = i18n.maybe(`error.${body.error}`) ?? i18n.t("error.other", { status: error.status });
  return { text };
}

/**
 * Shows an error above a form: an alert that names the field and links to it, and the field
 * itself marked (`aria-invalid`, its message under it) so the person lands on what to fix.
 */
export function showFormError(
  form: HTMLFormElement,
  alertBox: HTMLElement,
  error: unknown,
  i18n: I18n<CommonText>,
  label: (field: string) => string | undefined,
): void {
  clearMarks(form);
  const explained = explain(error, i18n, label);
  let control: HTMLElement | null = null;
  if (explained.field) {
    for (const name of prefixes(explained.field)) {
      control = markField(form, name, explained.text);
      if (control) break;
    }
  }
  const target = control?.id;
  show(
    alertBox,
    h("h2", { class: "alert-title" }, i18n.t("error.summary")),
    h("p", null, target ? h("a", { href: `#${target}`, onclick: (e: Event) => { e.preventDefault(); control?.focus(); } }, explained.text) : explained.text),
  );
  alertBox.hidden = false;
  alertBox.focus();
}

export function clearFormError(form: HTMLFormElement, alertBox: HTMLElement): void {
  clearMarks(form);
  alertBox.replaceChildren();
  alertBox.hidden = true;
}

/** An alert region to place above a form. */
export function alertBox(): HTMLDivElement {
  return h("div", { class: "alert", role: "alert", tabindex: "-1", hidden: true });
}

/** `incident.steps_tried.2`, then `incident.steps_tried`, then `incident`: the nearest field shown. */
function prefixes(field: string): string[] {
  const parts = field.split(".");
  return parts.map((_, index) => parts.slice(0, parts.length - index).join("."));
}
