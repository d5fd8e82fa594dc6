// The published hours, from the API's own calendar (GET /support/hours): never a second copy.
import type { Api } from "../shared/api";
import { h, show } from "../shared/dom";
import type { I18n } from "../shared/i18n";
import type { S } from "../shared/schema";
import type { Frame } from "../shared/shell";
import type { PlayerText } from "./text";

export async function fetchHours(api: Api, i18n: I18n<PlayerText>): Promise<S<"SupportHours"> | null> {
  try {
    const answer = await api.get("/support/hours", { query: { lang: i18n.language } });
    return "channels" in answer ? answer : null;
  } catch {
    return null;
  }
}

/** One line: whether chat is open now, and when that changes. */
export function chatNow(hours: S<"SupportHours"> | null, i18n: I18n<PlayerText>): HTMLElement | null {
  const chat = hours?.channels.find((channel) => channel.channel === "chat");
  if (!chat) return null;
  const change = chat.next_change ? i18n.t(chat.open_now ? "hours.next_close" : "hours.next_open", { at: i18n.dateTime(chat.next_change) }) : "";
  return h("p", { class: `notice ${chat.open_now ? "ok" : "warn"}`, id: "chat-now" }, `${i18n.t(chat.open_now ? "hours.now_open" : "hours.now_closed")} ${change}`);
}

export async function renderHours(frame: Frame, i18n: I18n<PlayerText>, api: Api): Promise<void> {
  const hours = await fetchHours(api, i18n);
  if (!hours) {
    show(frame.main, h("h1", null, i18n.t("hours.title")), h("p", { class: "alert", role: "alert" }, i18n.t("error.network")));
    return;
  }
  show(
    frame.main,
    h("h1", null, i18n.t("hours.title")),
    chatNow(hours, i18n),
    h("p", { class: "muted" }, i18n.t("hours.intro", { zone: hours.time_zone })),
    hours.channels.map((channel) =>
      h(
        "section",
        { "aria-labelledby": `hours-${channel.channel}` },
        h("h2", { id: `hours-${channel.channel}` }, `${channel.name} — ${i18n.t(channel.open_now ? "hours.open_now" : "hours.closed_now")}`),
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            null,
            h("thead", null, h("tr", null, h("th", { scope: "col" }, i18n.t("hours.day")), h("th", { scope: "col" }, i18n.t("hours.open")))),
            h(
              "tbody",
              null,
              channel.days.map((day) =>
                h(
                  "tr",
                  null,
                  h("th", { scope: "row" }, i18n.date(day.date), day.holiday ? h("span", { class: "muted" }, ` — ${day.holiday.name}`) : null),
                  h("td", null, day.hours.length ? day.hours.map((span) => `${span.open}–${span.close}`).join(", ") : i18n.t("hours.closed")),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
    hours.coming_holidays.length
      ? [h("h2", null, i18n.t("hours.holidays")), h("ul", null, hours.coming_holidays.map((holiday) => h("li", null, `${holiday.name} — ${i18n.date(holiday.observed)}`)))]
      : null,
  );
}
