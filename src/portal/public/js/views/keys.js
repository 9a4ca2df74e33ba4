// API keys: list (prefix and dates only), create — the secret is shown once, in a dialog that removes it
// from the page when closed — and revoke.
import { del, get, post } from "../api.js";
import { announce, badge, can, confirmButton, errorBox, field, h, render, successBox, when } from "../dom.js";

const ROLES = ["viewer", "user", "manager", "admin"];

/** Shows a secret once; closing the dialog removes it from the document, and nothing keeps a copy */
export function showSecretOnce(title, rows) {
  const dialog = h("dialog", { "aria-labelledby": "secret-title", id: "secret-dialog" },
    h("h2", { id: "secret-title" }, title),
    h("p", {}, "Copy it now: it is shown this once and cannot be shown again."),
    rows.map(([label, value]) => [h("p", { class: "muted" }, label), h("p", { class: "secret", dataset: { secret: label } }, value)]),
    h("form", { method: "dialog" }, h("button", { type: "submit", autofocus: true }, "I have stored it")));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

export async function keysView(main, { me, tenantId }) {
  const base = `/api/tenants/${encodeURIComponent(tenantId)}/keys`;
  const messages = h("div", { id: "keys-messages" });
  const list = h("div");
  const writable = can(me, "keys:write");
  const ok = (text) => (render(messages, successBox(text)), announce(text));
  const fail = (err) => render(messages, errorBox(err.message));

  async function load() {
    let keys;
    try {
      ({ keys } = await get(`${base}?revoked=1`));
    } catch (err) {
      if (err.status === 401) return;
      return render(list, errorBox(err.status === 403 ? "Your role may not see this tenant's API keys." : err.message));
    }
    render(list, keys.length === 0 ? h("p", { class: "muted" }, "No API keys.") : h("table", {}, h("caption", { class: "sr-only" }, "API keys"),
      h("thead", {}, h("tr", {}, ["Name", "Key", "Role", "Created", "Last used", "Expires", "State", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, keys.map((k) => h("tr", { dataset: { keyId: k.keyId, name: k.name } },
        h("td", {}, k.name), h("td", {}, h("code", {}, k.prefix)), h("td", {}, k.role), h("td", {}, when(k.createdAt)),
        h("td", {}, when(k.lastUsedAt)), h("td", {}, k.expiresAt ? when(k.expiresAt) : "never"),
        h("td", {}, badge(k.revokedAt ? "revoked" : "active")),
        h("td", {}, writable && !k.revokedAt ? confirmButton("Revoke", `Confirm revoking ${k.name}`, async () => {
          try {
            await del(`${base}/${encodeURIComponent(k.keyId)}`);
            ok(`Key ${k.name} was revoked; it stops working at once.`);
            await load();
          } catch (err) {
            fail(err);
          }
        }) : null))))));
  }

  const name = h("input", { required: true, maxlength: "200", autocomplete: "off" });
  const role = h("select", {}, ROLES.map((r) => h("option", { value: r, selected: r === "user" }, r)));
  const days = h("input", { type: "number", min: "0", max: "3650", value: "90", inputmode: "numeric" });
  const form = h("form", { class: "inline", "aria-label": "Create an API key" },
    field("Name", name), field("Role", role), field("Expires in days (0 = never)", days), h("button", { type: "submit" }, "Create key"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const res = await post(base, { name: name.value.trim(), role: role.value, expiresInDays: Number(days.value) || 0 });
      name.value = "";
      showSecretOnce(`API key ${res.key.name} created`, [["API key", res.apiKey]]);
      ok(`Key ${res.key.name} created.`);
      await load();
    } catch (err) {
      fail(err);
    }
  });

  render(main, h("h1", {}, "API keys"), messages,
    writable ? h("section", { class: "card", "aria-labelledby": "k-new" }, h("h2", { id: "k-new" }, "Create a key"), form) : null,
    h("section", { class: "card", "aria-labelledby": "k-list" }, h("h2", { id: "k-list" }, "Keys"), list));
  await load();
}
