// DOM helpers. Text always goes in through textContent, never innerHTML, so tenant data (names, emails,
// reasons) can never become markup; together with the CSP this leaves nothing for an injected string to run.

/** h("button", { class: "x", onclick }, "text", child…): an element with attributes, handlers and children */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children */
export function render(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Announces a message to screen readers (and tests) through the live region */
export function announce(text) {
  const live = document.getElementById("status");
  if (live) live.textContent = text;
}

const nf = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
export const num = (n) => (n === undefined || n === null || Number.isNaN(Number(n)) ? "—" : nf.format(Number(n)));
export const pct = (n) => `${nf.format(Math.round(Number(n) * 1000) / 10)}%`;
export const ms = (n) => `${nf.format(Math.round(Number(n) * 10) / 10)} ms`;

/** Money in minor units (int64 arrives as a string) with its currency */
export function money(minor, currency = "USD") {
  const value = Number(minor) / 100;
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).format(value);
  } catch {
    return `${nf.format(value)} ${currency}`;
  }
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "—" : d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export const badge = (text) => h("span", { class: `badge ${String(text).replace(/[^a-z_]/gi, "")}` }, text);

/** A labelled form control: every input has a visible label tied to it */
let ids = 0;
export function field(label, control) {
  const id = control.id || `f${++ids}`;
  control.id = id;
  return h("label", { for: id }, label, control);
}

export const errorBox = (message) => h("p", { class: "error", role: "alert" }, message);
export const successBox = (message) => h("p", { class: "success", role: "status" }, message);

/**
 * A destructive action in two steps: the first press arms the button ("Confirm …"), the second acts. No modal
 * dialog to trap focus, and a stray click or Enter never removes anything.
 */
export function confirmButton(label, confirmLabel, action, attrs = {}) {
  const button = h("button", { type: "button", class: "danger", ...attrs }, label);
  let armed = false;
  button.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      button.textContent = confirmLabel;
      setTimeout(() => {
        armed = false;
        if (button.isConnected && !button.disabled) button.textContent = label;
      }, 5000);
      return;
    }
    button.disabled = true;
    try {
      await action();
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

export const can = (me, permission) => Array.isArray(me.permissions) && me.permissions.includes(permission);
