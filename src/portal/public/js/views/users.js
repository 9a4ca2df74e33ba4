// Users of a tenant: list (ListUsers), create (CreateUser), change role (UpdateUser), end sessions
// (RevokeSessions) and remove (DeleteUser). Controls show as the role allows; the control plane decides anyway.
import { del, get, patch, post } from "../api.js";
import { announce, can, confirmButton, errorBox, field, h, render, successBox, when } from "../dom.js";

const ROLES = ["admin", "manager", "user", "viewer"];

export async function usersView(main, { me, tenantId }) {
  const base = `/api/tenants/${encodeURIComponent(tenantId)}/users`;
  const messages = h("div", { id: "users-messages" });
  const table = h("div");
  const writable = can(me, "users:write");

  const ok = (text) => (render(messages, successBox(text)), announce(text));
  const fail = (err) => render(messages, errorBox(err.message));

  async function load() {
    let users;
    try {
      ({ users } = await get(base));
    } catch (err) {
      if (err.status === 401) return;
      return render(table, errorBox(err.status === 403 ? "You do not have access to this tenant's users." : err.message));
    }
    render(table, h("table", {}, h("caption", { class: "sr-only" }, "Users"),
      h("thead", {}, h("tr", {}, ["Email", "Role", "MFA", "Last sign-in", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, users.map((u) => row(u)))));
  }

  function row(u) {
    const select = h("select", { "aria-label": `Role of ${u.email}`, disabled: !writable }, ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
    const save = h("button", { type: "button", class: "secondary", disabled: !writable, onclick: async () => {
      try {
        await patch(`${base}/${u.id}`, { role: select.value });
        ok(`${u.email} is now ${select.value}.`);
        await load();
      } catch (err) {
        fail(err);
      }
    } }, "Save role");
    const actions = writable ? [
      save,
      h("button", { type: "button", class: "secondary", onclick: async () => {
        try {
          const res = await post(`${base}/${u.id}/revoke-sessions`);
          ok(`Ended ${res.revokedCount} session(s) of ${u.email}.`);
        } catch (err) {
          fail(err);
        }
      } }, "End sessions"),
      u.id === me.user?.id ? null : confirmButton("Remove", `Confirm removing ${u.email}`, async () => {
        try {
          await del(`${base}/${u.id}`);
          ok(`${u.email} was removed.`);
          await load();
        } catch (err) {
          fail(err);
        }
      }),
    ] : [];
    return h("tr", { dataset: { email: u.email } }, h("td", {}, u.email), h("td", {}, select), h("td", {}, u.mfaEnabled ? "on" : "off"),
      h("td", {}, when(u.lastLogin)), h("td", {}, h("div", { class: "row-actions" }, actions)));
  }

  const email = h("input", { type: "email", required: true, autocomplete: "off" });
  const password = h("input", { type: "password", required: true, autocomplete: "new-password", minlength: "12" });
  const role = h("select", {}, ROLES.map((r) => h("option", { value: r, selected: r === "user" }, r)));
  const form = h("form", { class: "inline", "aria-label": "Create a user" },
    field("Email", email), field("Initial password", password), field("Role", role), h("button", { type: "submit" }, "Create user"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const res = await post(base, { email: email.value.trim(), password: password.value, role: role.value });
      password.value = "";
      email.value = "";
      ok(`Created ${res.user.email} (${res.user.role}). Give them the initial password through a safe channel.`);
      await load();
    } catch (err) {
      fail(err);
    }
  });

  render(main, h("h1", {}, "Users"), messages,
    writable ? h("section", { class: "card", "aria-labelledby": "u-new" }, h("h2", { id: "u-new" }, "Create a user"), form) : null,
    h("section", { class: "card", "aria-labelledby": "u-list" }, h("h2", { id: "u-list" }, "All users"), table));
  await load();
}
