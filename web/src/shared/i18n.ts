// French first, English second: the page's language is the player's choice, kept across visits,
// and switching it re-renders the screen in place (the route in the address stays).
import type { Language } from "./schema";

export type Dict = Record<string, string>;

const STORAGE_KEY = "guichet.language";

export class I18n<D extends Dict> {
  private current: Language;
  private listeners: Array<() => void> = [];

  constructor(private readonly dicts: Record<Language, D>) {
    const saved = localStorage.getItem(STORAGE_KEY);
    this.current = saved === "en" || saved === "fr" ? saved : "fr";
    document.documentElement.lang = this.current;
  }

  get language(): Language {
    return this.current;
  }

  set(language: Language): void {
    this.current = language;
    localStorage.setItem(STORAGE_KEY, language);
    document.documentElement.lang = language;
    for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The text for `key`, with `{name}` replaced by `vars.name`. */
  t(key: keyof D & string, vars: Record<string, string | number> = {}): string {
    const text = this.dicts[this.current][key] ?? key;
    return text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
  }

  /** The text for `key` if it exists (API codes the page may not know yet). */
  maybe(key: string, vars: Record<string, string | number> = {}): string | undefined {
    return key in this.dicts[this.current] ? this.t(key as keyof D & string, vars) : undefined;
  }

  dateTime(timestamp: string | null | undefined): string {
    if (!timestamp) return "—";
    const date = new Date(timestamp);
    if (Number.isNaN(date.getTime())) return timestamp;
    return new Intl.DateTimeFormat(this.locale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
  }

  date(day: string): string {
    const date = new Date(`${day}T12:00:00Z`);
    if (Number.isNaN(date.getTime())) return day;
    return new Intl.DateTimeFormat(this.locale(), { dateStyle: "full", timeZone: "UTC" }).format(date);
  }

  size(bytes: number): string {
    const unit = bytes >= 1048576 ? "megabyte" : "kilobyte";
    const value = bytes / (unit === "megabyte" ? 1048576 : 1024);
    return new Intl.NumberFormat(this.locale(), { style: "unit", unit, maximumFractionDigits: 1 }).format(value);
  }

  private locale(): string {
    return this.current === "fr" ? "fr-CA" : "en-CA";
  }
}
