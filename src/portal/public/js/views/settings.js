// Settings: the IP allowlist (the tenant's network_restrictions, through UpdateTenant), the MFA requirement
// (SecurityService, when part of the deployment), the signed-in user's own MFA, and plan-change requests.
import { get, post, put } from "../api.js";
import { announce, badge, can, errorBox, field, h, render, successBox, when } from "../dom.js";
import { securityPolicyPanel } from "./security-policy.js";

const PLANS = ["free", "basic", "professional", "enterprise"];

export async function settingsView(main, { me, tenantId }) {
  const base = `/api/tenants/${encodeURIComponent(tenantId)}`;
  const messages = h("div", { id: "settings-messages" });
  const ok = (text) => (render(messages, successBox(text)), announce(text));
  const fail = (err) => render(messages, errorBox(err.message));
  let data;
  try {
    data = await get(`${base}/settings`);
  } catch (err) {
    if (err.status === 401) return;
    return render(main, h("h1", {}, "Settings"), errorBox(err.status === 403 ? "You do not have access to this tenant." : err.message));
  }
  const t = data.tenant;

  const cidrs = h("textarea", { rows: "4", cols: "40", disabled: !can(me, "tenant:write"), spellcheck: "false" });
  cidrs.value = t.networkRestrictions.join("\n");
  const allowForm = h("form", { "aria-label": "IP allowlist" }, field("Allowed networks (CIDR, one per line; empty = anywhere)", cidrs),
    can(me, "tenant:write") ? h("button", { type: "submit" }, "Save allowlist") : h("p", { class: "muted" }, "Only tenant admins may change this."));
  allowForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const res = await put(`${base}/network-restrictions`, { cidrs: cidrs.value.split(/\s+/).filter(Boolean) });
      cidrs.value = res.tenant.networkRestrictions.join("\n");
      ok("The allowlist was saved; the proxy applies it within a second.");
    } catch (err) {
      fail(err);
    }
  });

  const plan = h("select", {}, PLANS.map((p) => h("option", { value: p, selected: p === t.planType }, p)));
  const reason = h("input", { maxlength: "500" });
  const planForm = h("form", { class: "inline", "aria-label": "Request a plan change" }, field("Requested plan", plan), field("Reason", reason),
    h("button", { type: "submit" }, "Request plan change"));
  planForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await post(`${base}/plan-requests`, { planType: plan.value, reason: reason.value });
      ok(`Requested the ${plan.value} plan. An operator will review it; nothing changes until then.`);
      await settingsView(main, { me, tenantId });
    } catch (err) {
      fail(err);
    }
  });
  const requests = data.planRequests === null ? h("p", { class: "muted" }, "Your role may not see plan requests.")
    : data.planRequests.length === 0 ? h("p", { class: "muted" }, "No plan change requests.")
    : h("ul", {}, data.planRequests.map((r) => h("li", {}, `${r.currentPlan} → ${r.requestedPlan} `, badge(r.status),
      h("span", { class: "muted" }, ` requested ${when(r.requestedAt)}${r.resolutionNote ? ` — ${r.resolutionNote}` : ""}`))));

  render(main, h("h1", {}, "Settings"), messages, h("div", { class: "grid" },
    h("section", { class: "card", "aria-labelledby": "s-net" }, h("h2", { id: "s-net" }, "IP allowlist"), allowForm),
    await securityPolicyPanel(me, base, ok, fail),
    me.kind === "user" ? mfaPanel(me, ok, fail) : null,
    h("section", { class: "card", "aria-labelledby": "s-plan" }, h("h2", { id: "s-plan" }, "Plan"),
      h("p", {}, "Current plan: ", h("strong", {}, t.planType)),
      can(me, "billing:write") ? planForm : h("p", { class: "muted" }, "Only tenant admins may request a plan change."), requests)));
}

function mfaPanel(me, ok, fail) {
  const body = h("div");
  const section = h("section", { class: "card", "aria-labelledby": "s-mfa" }, h("h2", { id: "s-mfa" }, "Your two-factor authentication"), body);
  if (me.user.mfaEnabled) {
    render(body, h("p", {}, "Two-factor authentication is ", h("strong", {}, "on"), " for your account."));
    return section;
  }
  render(body, h("p", {}, "Protect your account with an authenticator app."), h("button", { type: "button", onclick: async () => {
    try {
      const res = await post("/api/me/mfa/enroll");
      const code = h("input", { inputmode: "numeric", maxlength: "6", autocomplete: "one-time-code", required: true });
      const confirm = h("form", { class: "inline", "aria-label": "Confirm two-factor authentication" }, field("Code from the app", code), h("button", { type: "submit" }, "Turn on"));
      confirm.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          await post("/api/me/mfa/confirm", { code: code.value.trim() });
          me.user.mfaEnabled = true;
          render(body, h("p", {}, "Two-factor authentication is ", h("strong", {}, "on"), "."));
          ok("Two-factor authentication is on.");
        } catch (err) {
          fail(err);
        }
      });
      render(body, h("p", {}, "Add this secret to your authenticator app (shown only now), then enter the code it shows."),
        h("p", { class: "secret" }, res.secret), h("p", { class: "secret muted" }, res.otpauthUri), confirm);
      code.focus();
    } catch (err) {
      fail(err);
    }
  } }, "Set up"));
  return section;
}
