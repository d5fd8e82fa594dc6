// The frame of both pages: a skip link, the header (name, navigation, who is signed in, the
// language switch), the main region each screen fills, and a polite live region for results.
// The whole frame is drawn again on every route or language change; the route lives in the
// address's fragment, so a language switch keeps the screen and a link can be shared.
import type { CommonText } from "./common-text";
import { focusHeading, h, show } from "./dom";
import type { I18n } from "./i18n";

export interface NavItem {
  route: string;
  label: string;
}

export interface Frame {
  main: HTMLElement;
  status: HTMLElement;
}

export function route(): string[] {
  return location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
}

export function go(path: string): void {
  location.hash = `#/${path}`;
}

export function drawFrame(options: {
  title: string;
  i18n: I18n<CommonText>;
  nav: NavItem[];
  signedInAs: string | null;
  onSignOut: () => void;
}): Frame {
  const { i18n } = options;
  const current = route()[0] ?? "";
  const switchButton = h(
    "button",
    {
      type: "button",
      id: "language-switch",
      class: "link-button",
      lang: i18n.t("app.switch_lang"),
      onclick: () => {
        i18n.set(i18n.language === "fr" ? "en" : "fr");
      },
    },
    i18n.t("app.switch_to"),
  );
  const nav = options.nav.length
    ? h(
        "nav",
        { "aria-label": options.title },
        h(
          "ul",
          { class: "nav" },
          options.nav.map((item) =>
            h("li", null, h("a", { href: `#/${item.route}`, "aria-current": item.route.split("/")[0] === current ? "page" : null }, item.label)),
          ),
        ),
      )
    : null;
  const main = h("main", { id: "main", tabindex: "-1" });
  const status = h("div", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const header = h(
    "header",
    { class: "site-header" },
    h(
      "div",
      { class: "bar" },
      h("p", { class: "brand" }, options.title),
      h(
        "div",
        { class: "tools" },
        options.signedInAs ? h("span", { class: "who" }, i18n.t("app.signed_in_as", { sub: options.signedInAs })) : null,
        options.signedInAs ? h("button", { type: "button", class: "link-button", onclick: options.onSignOut }, i18n.t("app.sign_out")) : null,
        switchButton,
      ),
    ),
    nav,
  );
  show(document.body, h("a", { class: "skip-link", href: "#main", onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, i18n.t("app.skip")), header, main, status);
  return { main, status };
}

/** Says `text` to screen readers without moving focus. */
export function announce(frame: Frame, text: string): void {
  frame.status.textContent = "";
  // A new node each time, so the same text said twice is said twice.
  window.setTimeout(() => {
    frame.status.textContent = text;
  }, 50);
}

export type Focus = "heading" | "switch" | "none";

/**
 * Runs a page: `render` draws the current route; it runs again on every navigation and language
 * switch, one at a time and in order. Then focus goes where the person expects it: the new
 * screen's heading after a navigation, the language switch after switching. Returns the
 * function that asks for a render (after signing in or out).
 */
export function runPage(render: () => Promise<void>, i18n: { onChange(listener: () => void): void }): (focus: Focus) => void {
  let rendering = Promise.resolve();
  const rerender = (focus: Focus): void => {
    rendering = rendering
      .then(async () => {
        await render();
        if (focus === "heading") focusHeading(document.querySelector("main") ?? document.body);
        if (focus === "switch") document.getElementById("language-switch")?.focus();
      })
      // A screen that threw must not stop every later render (the chain would stay rejected).
      .catch((error: unknown) => console.error(error));
  };
  window.addEventListener("hashchange", () => rerender("heading"));
  i18n.onChange(() => rerender("switch"));
  rerender("none");
  return rerender;
}
