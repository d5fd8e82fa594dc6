// The one way the pages build their DOM: elements and text nodes, never HTML strings, so a
// subject or a message a player typed is always text and never markup.

export type Child = Node | string | number | null | undefined | false | Child[];
type Listener = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.replace(/^on/, "").toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces what `parent` shows. */
export function show(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let ids = 0;
/** A unique id for a label's `for`, an `aria-describedby`. */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled field: the label, the control, an optional hint, and a slot for its error. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  options: { hint?: string; name?: string } = {},
): HTMLDivElement {
  const id = control.id || uid("f");
  control.id = id;
  if (options.name) control.name = options.name;
  const described: string[] = [];
  const hint = options.hint ? h("p", { class: "hint", id: `${id}-hint` }, options.hint) : null;
  if (hint) described.push(hint.id);
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  described.push(error.id);
  control.setAttribute("aria-describedby", described.join(" "));
  return h("div", { class: "field", "data-field": options.name ?? control.name }, h("label", { for: id }, label), hint, control, error);
}

/** Marks the field named `name` inside `form` as wrong, with `text`; returns its control. */
export function markField(form: Element, name: string, text: string): HTMLElement | null {
  const wrapper = form.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"]`);
  if (!wrapper) return null;
  const control = wrapper.querySelector<HTMLElement>("input, select, textarea");
  const error = wrapper.querySelector<HTMLElement>(".field-error");
  if (error) {
    error.textContent = text;
    error.hidden = false;
  }
  control?.setAttribute("aria-invalid", "true");
  return control;
}

export function clearMarks(form: Element): void {
  for (const error of form.querySelectorAll<HTMLElement>(".field-error")) {
    error.textContent = "";
    error.hidden = true;
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
}

/** Moves focus to a new screen's heading, so keyboard and screen-reader users start there. */
export function focusHeading(root: Element): void {
  const heading = root.querySelector<HTMLElement>("h1, h2");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}
