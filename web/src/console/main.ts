// The staff console: team queues, tickets, incidents, identity reviews, player look-up, held
// mail and the complaints report. The navigation shows only what the signed-in role may open
// (context.ts mirrors the API's rules); each screen is a file of its own.
import "../shared/style.css";
import "./console.css";
import { Api } from "../shared/api";
import { loadConfig, renderSignIn, Session, type Identity } from "../shared/auth";
import { h } from "../shared/dom";
import { I18n } from "../shared/i18n";
import { drawFrame, route, runPage, type NavItem } from "../shared/shell";
import { renderComplaints } from "./complaints";
import { CONSOLE_ROLES, isReviewer, isStaff, isSupervisor, mayLookUp, myTeams, type ConsoleContext } from "./context";
import { renderHeld } from "./held";
import { renderIncident, renderIncidents } from "./incidents";
import { renderLookup } from "./lookup";
import { renderQueue } from "./queue";
import { renderCase, renderReviews } from "./reviews";
import { consoleText } from "./text";
import { renderTicket } from "./ticket";
import { heading } from "./ui";

const config = await loadConfig();
const i18n = new I18n(consoleText);
const session = new Session("guichet.console.token");
const api = new Api(config.api, () => session.token(), () => i18n.language);

function navFor(identity: Identity): NavItem[] {
  const nav: NavItem[] = [];
  const teams = myTeams(identity);
  if (teams[0]) nav.push({ route: `queue/${teams[0]}`, label: i18n.t("nav.queues") });
  if (isStaff(identity)) nav.push({ route: "incidents", label: i18n.t("nav.incidents") });
  if (isReviewer(identity)) nav.push({ route: "reviews", label: i18n.t("nav.reviews") });
  if (mayLookUp(identity)) nav.push({ route: "player", label: i18n.t("nav.lookup") });
  if (isStaff(identity)) nav.push({ route: "held", label: i18n.t("nav.held") });
  if (isSupervisor(identity)) nav.push({ route: "complaints", label: i18n.t("nav.complaints") });
  return nav;
}

async function render(): Promise<void> {
  const identity = session.identity();
  const signOut = () => {
    session.clear();
    rerender("heading");
  };
  const frame = drawFrame({
    title: i18n.t("title"),
    i18n,
    nav: identity ? navFor(identity) : [],
    signedInAs: identity?.sub ?? null,
    onSignOut: signOut,
  });
  if (!identity) {
    await renderSignIn(
      frame.main,
      config,
      i18n,
      (candidate) => candidate.groups.some((group) => CONSOLE_ROLES.includes(group)),
      (token) => {
        session.set(token);
        rerender("heading");
      },
    );
    return;
  }
  const context: ConsoleContext = { api, i18n, frame, identity, signOut };
  const nav = navFor(identity);
  const home = nav[0]?.route;
  if (!home) {
    // A token without any console role (a player's, a service's): nothing to show but that.
    frame.main.replaceChildren(heading(i18n.t("access.title")), h("p", { class: "notice warn" }, i18n.t("access.nothing")));
    return;
  }
  const [screen, argument] = route();
  switch (screen) {
    case "queue":
      return renderQueue(context, argument);
    case "ticket":
      return argument ? renderTicket(context, argument) : renderQueue(context, undefined);
    case "incidents":
      return renderIncidents(context, argument);
    case "incident":
      return argument ? renderIncident(context, argument) : renderIncidents(context, undefined);
    case "reviews":
      return renderReviews(context, argument === "senior");
    case "case":
      return argument ? renderCase(context, argument) : renderReviews(context, false);
    case "player":
      return renderLookup(context, argument);
    case "held":
      return renderHeld(context);
    case "complaints":
      return renderComplaints(context, argument);
    default:
      // No route (or an unknown one): the first screen the role has, without a history entry.
      history.replaceState(null, "", `#/${home}`);
      return render();
  }
}

const rerender = runPage(render, i18n);
