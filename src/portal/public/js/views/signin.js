// Sign-in: tenant users (tenant, email, password, and the TOTP code when their account has MFA) or operators
// (the operator token). The credential goes to the portal server once and never comes back to the page.
import { post, setCsrf } from "../api.js";
import { errorBox, field, h, render, announce } from "../dom.js";

export function signInView(main, { message, onSignedIn }) {
  let mode = "tenant";
  const out = h("div", { id: "signin-messages" });
  if (message) out.append(h("p", { class: "note", role: "alert" }, message));

  const tenant = h("input", { name: "tenant", autocomplete: "organization", required: true, autocapitalize: "none", spellcheck: "false" });
  const email = h("input", { name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const totp = h("input", { name: "totp", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6" });
  const totpField = field("Authenticator code", totp);
  totpField.hidden = true;
  const token = h("input", { name: "token", type: "password", autocomplete: "off", required: true });

  const submit = h("button", { type: "submit" }, "Sign in");
  const tenantForm = h("form", { "aria-label": "Tenant sign-in", novalidate: false },
    field("Tenant", tenant), field("Email", email), field("Password", password), totpField, submit);
  const operatorForm = h("form", { "aria-label": "Operator sign-in", hidden: true },
    field("Operator token", token), h("button", { type: "submit" }, "Sign in as operator"));

  async function attempt(form, path, body) {
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      const res = await post(path, body);
      setCsrf(res.csrf);
      announce("Signed in");
      await onSignedIn();
    } catch (err) {
      if (err.body?.totpRequired) {
        totpField.hidden = false;
        totp.required = true;
        totp.focus();
      }
      render(out, errorBox(err.message));
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  tenantForm.addEventListener("submit", (e) => {
    e.preventDefault();
    attempt(tenantForm, "/api/session", { tenant: tenant.value.trim(), email: email.value.trim(), password: password.value, totp: totp.value.trim() });
  });
  operatorForm.addEventListener("submit", (e) => {
    e.preventDefault();
    attempt(operatorForm, "/api/session/operator", { token: token.value.trim() });
  });

  const tabUser = h("button", { type: "button", role: "tab", "aria-selected": "true", id: "tab-tenant" }, "Tenant user");
  const tabOp = h("button", { type: "button", role: "tab", "aria-selected": "false", id: "tab-operator" }, "Operator");
  const select = (next) => {
    mode = next;
    tabUser.setAttribute("aria-selected", String(mode === "tenant"));
    tabOp.setAttribute("aria-selected", String(mode === "operator"));
    tenantForm.hidden = mode !== "tenant";
    operatorForm.hidden = mode !== "operator";
    (mode === "tenant" ? tenant : token).focus();
  };
  tabUser.addEventListener("click", () => select("tenant"));
  tabOp.addEventListener("click", () => select("operator"));

  render(main, h("section", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("div", { class: "tabs", role: "tablist", "aria-label": "Who is signing in" }, tabUser, tabOp),
    out, tenantForm, operatorForm));
  tenant.focus();
}
