// The player's support page: contact form, my requests, my verification, opening hours.
import "../shared/style.css";
import { Api } from "../shared/api";
import { loadConfig, renderSignIn, Session } from "../shared/auth";
import { I18n } from "../shared/i18n";
import { drawFrame, route, runPage } from "../shared/shell";
import { renderContact, renderReceived } from "./contact";
import { renderHours } from "./hours";
import { renderTicket, renderTickets } from "./tickets";
import { playerText } from "./text";
import { renderVerification } from "./verification";

const config = await loadConfig();
const i18n = new I18n(playerText);
const session = new Session("guichet.player.token");
const api = new Api(config.api, () => session.token(), () => i18n.language);

async function render(): Promise<void> {
  const identity = session.identity();
  const [screen = "contact", argument] = route();
  const frame = drawFrame({
    title: i18n.t("title"),
    i18n,
    nav: identity
      ? [
          { route: "contact", label: i18n.t("nav.contact") },
          { route: "tickets", label: i18n.t("nav.tickets") },
          { route: "verification", label: i18n.t("nav.verification") },
          { route: "hours", label: i18n.t("nav.hours") },
        ]
      : [{ route: "hours", label: i18n.t("nav.hours") }],
    signedInAs: identity?.sub ?? null,
    onSignOut: () => {
      session.clear();
      rerender("heading");
    },
  });
  if (screen === "hours") {
    await renderHours(frame, i18n, api);
    return;
  }
  if (!identity) {
    await renderSignIn(frame.main, config, i18n, (candidate) => candidate.groups.includes("player"), (token) => {
      session.set(token);
      rerender("heading");
    });
    return;
  }
  const context = { api, i18n, frame, identity };
  switch (screen) {
    case "tickets":
      await (argument ? renderTicket(context, argument) : renderTickets(context));
      break;
    case "received":
      await (argument ? renderReceived(context, argument) : renderContact(context));
      break;
    case "verification":
      await renderVerification(context);
      break;
    default:
      await renderContact(context);
  }
}

const rerender = runPage(render, i18n);
