// What every console screen works with, and who may do what. The rules mirror the API's own
// checks (shared/core/src/common/access.rs and the handlers), so the console never offers an
// action the API would refuse for the role; the API checks every call anyway.
import type { Api } from "../shared/api";
import type { Identity } from "../shared/auth";
import type { I18n } from "../shared/i18n";
import type { S } from "../shared/schema";
import type { Frame } from "../shared/shell";
import type { ConsoleText } from "./text";

export type Team = S<"Team">;

export interface ConsoleContext {
  api: Api;
  i18n: I18n<ConsoleText>;
  frame: Frame;
  identity: Identity;
  /** Forgets the token and draws the sign-in screen (after a 401). */
  signOut: () => void;
}

export const TEAMS: readonly Team[] = ["technical", "games", "payments", "security", "verification", "complaints"];

/** The four teams an escalation may go to (`escalateTicket`'s `team` enum). */
export const SPECIALIST_TEAMS = ["technical", "games", "payments", "security"] as const;

/** The groups the console signs in: anyone with one of these has at least one screen. */
export const CONSOLE_ROLES = ["agent", "supervisor", "verification", "verification_senior"];

/** `agent` or `supervisor` (`Actor::is_staff`): tickets, queues, incidents, held mail. */
export function isStaff(identity: Identity): boolean {
  return identity.roles.has("agent") || identity.roles.has("supervisor");
}

export function isSupervisor(identity: Identity): boolean {
  return identity.roles.has("supervisor");
}

/** `Actor::works_for`: supervisors work on every team, agents on their `team:` groups. */
export function worksFor(identity: Identity, team: Team): boolean {
  return isSupervisor(identity) || (identity.roles.has("agent") && identity.teams.includes(team));
}

/** The queues (and incident lists) the caller may open. */
export function myTeams(identity: Identity): Team[] {
  return TEAMS.filter((team) => worksFor(identity, team));
}

/** Reviewers of either level read the review queue and cases (read-case's `require_reviewer`). */
export function isReviewer(identity: Identity): boolean {
  return identity.roles.has("verification") || identity.roles.has("verification_senior");
}

/** The senior queue, and cases past the resubmission cap, need `verification_senior`. */
export function isSenior(identity: Identity): boolean {
  return identity.roles.has("verification_senior");
}

/** `tickets::lookup::may_look_up`: staff of any team, supervisors, the verification team. */
export function mayLookUp(identity: Identity): boolean {
  return isStaff(identity) || isReviewer(identity);
}
