// Who is using the page. In production the casino's identity provider signs the player or staff
// member in (the site's config.json names where); locally the gateway lists development
// identities with tokens it signed, and the page lets a developer pick one. The token is kept
// for the browser tab only (sessionStorage), and its claims are read for display and for which
// actions to offer: the API checks every call anyway.
import { h, show } from "./dom";
import type { CommonText } from "./common-text";
import type { I18n } from "./i18n";

export interface SiteConfig {
  api: string;
  devTokens: boolean;
  signIn?: string;
}

export interface DevIdentity {
  label: string;
  sub: string;
  groups: string[];
  token: string;
}

export interface Identity {
  sub: string;
  groups: string[];
  roles: Set<string>;
  teams: string[];
}

export async function loadConfig(): Promise<SiteConfig> {
  try {
    const response = await fetch("/config.json", { headers: { Accept: "application/json" } });
    if (response.ok) {
      const config = (await response.json()) as Partial<SiteConfig>;
      return { api: config.api ?? "/api", devTokens: config.devTokens === true, signIn: config.signIn };
    }
  } catch {
    // Falls through to the defaults: same origin, no development tokens.
  }
  return { api: "/api", devTokens: false };
}

export class Session {
  constructor(private readonly key: string) {
    // Back from the identity provider with the token in the fragment: keep it, clean the address.
    const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
    const returned = fragment.get("access_token");
    if (returned) {
      sessionStorage.setItem(this.key, returned);
      history.replaceState(null, "", location.pathname);
    }
  }

  token(): string | null {
    const token = sessionStorage.getItem(this.key);
    if (!token) return null;
    const identity = decode(token);
    if (!identity || (identity.exp !== undefined && identity.exp * 1000 < Date.now())) {
      sessionStorage.removeItem(this.key);
      return null;
    }
    return token;
  }

  set(token: string): void {
    sessionStorage.setItem(this.key, token);
  }

  clear(): void {
    sessionStorage.removeItem(this.key);
  }

  identity(): Identity | null {
    const token = this.token();
    const claims = token ? decode(token) : null;
    if (!claims) return null;
    const groups = claims.groups;
    return {
      sub: claims.sub,
      groups,
      roles: new Set(groups.filter((g) => !g.startsWith("team:"))),
      teams: groups.filter((g) => g.startsWith("team:")).map((g) => g.slice(5)),
    };
  }
}

function decode(token: string): { sub: string; groups: string[]; exp?: number } | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    const groups = Array.isArray(json["cognito:groups"]) ? (json["cognito:groups"] as unknown[]).filter((g): g is string => typeof g === "string") : [];
    if (typeof json.sub !== "string") return null;
    return { sub: json.sub, groups, exp: typeof json.exp === "number" ? json.exp : undefined };
  } catch {
    return null;
  }
}

/** The sign-in screen: the identity provider's link, or locally the development identities. */
export async function renderSignIn(
  root: HTMLElement,
  config: SiteConfig,
  i18n: I18n<CommonText>,
  accepts: (identity: DevIdentity) => boolean,
  signedIn: (token: string) => void,
): Promise<void> {
  const heading = h("h1", { tabindex: "-1" }, i18n.t("signin.title"));
  if (!config.devTokens) {
    show(root, heading, h("p", null, i18n.t("signin.intro")), config.signIn ? h("p", null, h("a", { class: "button", href: config.signIn }, i18n.t("signin.provider"))) : null);
    heading.focus();
    return;
  }
  let identities: DevIdentity[] = [];
  try {
    const response = await fetch("/dev/tokens", { headers: { Accept: "application/json" } });
    if (response.ok) identities = ((await response.json()) as DevIdentity[]).filter(accepts);
  } catch {
    identities = [];
  }
  const select = h("select", { id: "dev-identity", name: "identity" }, identities.map((identity) => h("option", { value: identity.sub }, `${identity.label} (${identity.sub})`)));
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const chosen = identities.find((identity) => identity.sub === select.value);
        if (chosen) signedIn(chosen.token);
      },
    },
    h("div", { class: "field" }, h("label", { for: "dev-identity" }, i18n.t("signin.identity")), select),
    h("button", { type: "submit" }, i18n.t("signin.submit")),
  );
  show(root, heading, h("p", null, i18n.t("signin.dev_intro")), form);
  heading.focus();
}
