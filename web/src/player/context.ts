import type { Api } from "../shared/api";
import type { Identity } from "../shared/auth";
import type { I18n } from "../shared/i18n";
import type { Frame } from "../shared/shell";
import type { PlayerText } from "./text";

/** What every screen of the player page works with. */
export interface PlayerContext {
  api: Api;
  i18n: I18n<PlayerText>;
  frame: Frame;
  identity: Identity;
}
