// Held mail (`#/held`): mail the desk could not attach to a player (an unknown sender, a
// spoofed From, an automaton), oldest first, a page at a time. Agents of any team and
// supervisors (mail/held.rs `require_staff`). The sender is what the mail claims, never a
// proof, and the screen says so next to it.
import { h, show } from "../shared/dom";
import type { S } from "../shared/schema";
import { isStaff, type ConsoleContext } from "./context";
import { badge, denied, facts, heading, label, loadFailed, loading, moreButton, when } from "./ui";

type Held = S<"HeldView">;

export async function renderHeld(ctx: ConsoleContext): Promise<void> {
  const { i18n, api } = ctx;
  if (!isStaff(ctx.identity)) return denied(ctx);
  const content = h("div", { class: "stack" }, loading(ctx));
  show(ctx.frame.main, heading(i18n.t("held.title")), h("p", null, i18n.t("held.intro")), content);
  let page: S<"HeldPage">;
  try {
    page = await api.get("/mail/held", { query: { limit: 20 } });
  } catch (error) {
    content.replaceChildren(loadFailed(ctx, error, () => void renderHeld(ctx)));
    return;
  }
  if (page.held.length === 0) {
    content.replaceChildren(h("p", null, i18n.t("held.empty")));
    return;
  }
  const list = h("ol", { class: "timeline" });
  const append = (mails: Held[]): HTMLElement | null => {
    const items = mails.map((mail) => heldItem(ctx, mail));
    list.append(...items);
    // The new mail's heading takes focus after "Show more".
    const first = items[0]?.querySelector<HTMLElement>("h2") ?? null;
    if (first) first.tabIndex = -1;
    return first;
  };
  append(page.held);
  const more = moreButton(
    ctx,
    page.next_cursor,
    async (cursor) => {
      const next = await api.get("/mail/held", { query: { limit: 20, cursor } });
      return { items: next.held, next: next.next_cursor };
    },
    append,
  );
  content.replaceChildren(list, more);
}

function heldItem(ctx: ConsoleContext, mail: Held): HTMLLIElement {
  const { i18n } = ctx;
  return h(
    "li",
    null,
    h(
      "article",
      { class: "card" },
      h("h2", null, mail.subject || i18n.t("held.no_subject")),
      facts([
        [i18n.t("held.received"), when(ctx, mail.received_at)],
        [i18n.t("held.reason"), badge(label(ctx, "held_reason", mail.reason), mail.reason === "dmarc_failed" ? "danger" : "warn")],
        [i18n.t("held.from"), mail.from ?? i18n.t("common.none")],
        mail.ticket ? [i18n.t("held.ticket"), h("a", { href: `#/ticket/${encodeURIComponent(mail.ticket)}` }, mail.ticket)] : null,
        [i18n.t("held.attachments"), String(mail.attachments)],
        [i18n.t("held.id"), h("code", null, mail.id)],
      ]),
      // Folded: a list of long mails stays scannable; the summary opens it with the keyboard.
      h("details", null, h("summary", null, i18n.t("held.text")), h("p", { class: "message" }, mail.text)),
    ),
  );
}
