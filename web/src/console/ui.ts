// Pieces every console screen draws the same way: labels for the API's codes, badges that say
// their meaning in words (never by colour alone), tables with header cells and a keyboard-
// reachable scroll area for narrow screens, the failure of a load, and the life cycle of an
// action form (busy, error above it naming the field, success).
import { ApiError } from "../shared/api";
import { h, type Child } from "../shared/dom";
import { clearFormError, explain, showFormError } from "../shared/errors";
import { announce } from "../shared/shell";
import type { S } from "../shared/schema";
import type { ConsoleContext } from "./context";

type Ctx = Pick<ConsoleContext, "i18n">;

/** The page-language word for an API code (`status.open`), or the code itself if unknown. */
export function label(ctx: Ctx, group: string, value: string): string {
  return ctx.i18n.maybe(`${group}.${value}`) ?? value;
}

export function authorText(ctx: Ctx, author: S<"Author">): string {
  switch (author.kind) {
    case "staff":
      return ctx.i18n.t("author.staff", { id: author.id });
    case "player":
      return ctx.i18n.t("author.player");
    default:
      return ctx.i18n.t("author.system");
  }
}

export function badge(text: string, tone?: "danger" | "ok" | "warn"): HTMLSpanElement {
  return h("span", { class: tone ? `badge ${tone}` : "badge" }, text);
}

export function statusBadge(ctx: Ctx, status: S<"TicketStatus">): HTMLSpanElement {
  const tone = status === "resolved" || status === "closed" ? "ok" : status === "escalated" ? "warn" : undefined;
  return badge(label(ctx, "status", status), tone);
}

export function priorityBadge(ctx: Ctx, priority: S<"Priority">): HTMLSpanElement {
  const tone = priority === "urgent" ? "danger" : priority === "high" ? "warn" : undefined;
  return badge(label(ctx, "priority", priority), tone);
}

/** A date and time, or "—"; `<time>` carries the exact instant for assistive tools. */
export function when(ctx: Ctx, at: string | null | undefined): Child {
  if (!at) return ctx.i18n.t("common.none");
  return h("time", { datetime: at }, ctx.i18n.dateTime(at));
}

/** True when `at` is in the past. */
export function past(at: string | null | undefined): boolean {
  if (!at) return false;
  const time = Date.parse(at);
  return !Number.isNaN(time) && time < Date.now();
}

export function facts(rows: Array<[string, Child] | null | false>): HTMLDListElement {
  return h(
    "dl",
    { class: "facts" },
    rows.filter((row): row is [string, Child] => Boolean(row)).map(([term, value]) => [h("dt", null, term), h("dd", null, value)]),
  );
}

/**
 * A table whose first cell of each row heads the row. It sits in a scroll area that is a
 * focusable, named region, so keyboard users can scroll it at 390 px (axe's
 * scrollable-region-focusable).
 */
export function table(caption: string, head: string[], rows: Child[][]): { wrap: HTMLDivElement; body: HTMLTableSectionElement } {
  const body = h("tbody", null, rows.map((cells) => row(cells)));
  const wrap = h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    h("table", null, h("caption", { class: "visually-hidden" }, caption), h("thead", null, h("tr", null, head.map((text) => h("th", { scope: "col" }, text)))), body),
  );
  return { wrap, body };
}

export function row(cells: Child[]): HTMLTableRowElement {
  return h(
    "tr",
    null,
    cells.map((cell, index) => (index === 0 ? h("th", { scope: "row" }, cell) : h("td", null, cell))),
  );
}

/** A screen's one h1. */
export function heading(text: string): HTMLHeadingElement {
  return h("h1", { tabindex: "-1" }, text);
}

/** The screen a role may not see: said plainly, with its own h1. */
export function denied(ctx: ConsoleContext): void {
  ctx.frame.main.replaceChildren(heading(ctx.i18n.t("access.title")), h("p", { class: "notice warn" }, ctx.i18n.t("access.denied")));
}

/** A failed read, worded in the page language; after a 401, the way back to signing in. */
export function loadFailed(ctx: ConsoleContext, error: unknown, retry?: () => void): HTMLDivElement {
  const expired = error instanceof ApiError && error.status === 401;
  return h(
    "div",
    { class: "alert", role: "alert" },
    h("h2", { class: "alert-title" }, ctx.i18n.t("load.failed")),
    h("p", null, explain(error, ctx.i18n, () => undefined).text),
    expired
      ? h("button", { type: "button", onclick: () => ctx.signOut() }, ctx.i18n.t("load.sign_in_again"))
      : retry
        ? h("button", { type: "button", class: "secondary", onclick: retry }, ctx.i18n.t("load.reload"))
        : null,
  );
}

/** Names API fields by the labels the form shows; `documents.x[2]` is looked up as `documents.x`. */
export function labels(map: Record<string, string>): (field: string) => string | undefined {
  return (field) => map[field] ?? map[field.replace(/\[\d+\]$/, "")];
}

/**
 * Wires an action form: one submission at a time, its error above it (field named by its
 * label, the field marked), and on success `done`'s text said to screen readers.
 */
export function onSubmit(
  ctx: ConsoleContext,
  form: HTMLFormElement,
  alert: HTMLElement,
  labelOf: (field: string) => string | undefined,
  send: () => Promise<string | null>,
): void {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    form.setAttribute("aria-busy", "true");
    // aria-disabled, not disabled: disabling the focused button would drop focus to the body.
    const buttons = [...form.querySelectorAll<HTMLButtonElement>("button[type=submit]")];
    for (const button of buttons) button.setAttribute("aria-disabled", "true");
    clearFormError(form, alert);
    send()
      .then((done) => {
        if (done) announce(ctx.frame, done);
      })
      .catch((error: unknown) => {
        showFormError(form, alert, error, ctx.i18n, labelOf);
      })
      .finally(() => {
        form.removeAttribute("aria-busy");
        for (const button of buttons) button.removeAttribute("aria-disabled");
      });
  });
}

/**
 * "Show more" under a paged list: loads the next page with the cursor, appends it, moves focus
 * to the first new item (so keyboard users continue from there), and disappears at the end.
 */
export function moreButton<T>(
  ctx: ConsoleContext,
  first: string | null | undefined,
  load: (cursor: string) => Promise<{ items: T[]; next: string | null | undefined }>,
  append: (items: T[]) => HTMLElement | null,
): HTMLElement {
  let cursor = first ?? null;
  const alertSlot = h("div");
  const button = h("button", { type: "button", class: "secondary" }, ctx.i18n.t("app.more"));
  const wrap = h("div", { class: "stack" }, alertSlot, button);
  wrap.hidden = !cursor;
  button.addEventListener("click", () => {
    if (!cursor || button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    alertSlot.replaceChildren();
    load(cursor)
      .then((page) => {
        cursor = page.next ?? null;
        const firstNew = append(page.items);
        wrap.hidden = !cursor;
        announce(ctx.frame, ctx.i18n.t("done.more", { count: page.items.length }));
        firstNew?.focus();
      })
      .catch((error: unknown) => alertSlot.replaceChildren(loadFailed(ctx, error)))
      .finally(() => {
        button.removeAttribute("aria-disabled");
      });
  });
  return wrap;
}

/** A "loading" line while a screen reads. */
export function loading(ctx: Ctx): HTMLParagraphElement {
  return h("p", { class: "muted", role: "status" }, ctx.i18n.t("app.loading"));
}

/** Where a focused element should land after a re-render: the element with `id`, else the h1. */
export function focusById(root: HTMLElement, id: string | null): void {
  const target = (id && document.getElementById(id)) || root.querySelector<HTMLElement>("h1");
  if (target) {
    if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) target.tabIndex = -1;
    target.focus();
  }
}
