// The tenant's MFA requirement, from its security policy (SecurityService). Until that service is part of
// the deployment the panel says so instead of offering a switch that would enforce nothing.
import { get, put } from "../api.js";
import { can, field, h, render } from "../dom.js";

export async function securityPolicyPanel(me, base, ok, fail) {
  const body = h("div");
  const section = h("section", { class: "card", "aria-labelledby": "s-sec" }, h("h2", { id: "s-sec" }, "Require MFA"), body);
  let res;
  try {
    res = await get(`${base}/security-policy`);
  } catch (err) {
    render(body, h("p", { class: "error" }, err.message));
    return section;
  }
  if (!res.available) {
    render(body, h("p", { class: "note off", dataset: { section: "security-policy", state: "unavailable" } }, `${res.message}.`));
    return section;
  }
  if (res.forbidden) {
    render(body, h("p", { class: "muted" }, "Your role does not include the security policy."));
    return section;
  }
  const box = h("input", { type: "checkbox", checked: res.policy.mfaRequired, disabled: !can(me, "security:write") });
  box.addEventListener("change", async () => {
    try {
      const next = await put(`${base}/security-policy/mfa`, { required: box.checked });
      box.checked = next.policy.mfaRequired;
      ok(box.checked ? "Every user of the tenant must now sign in with a TOTP code." : "MFA is no longer required.");
    } catch (err) {
      box.checked = !box.checked;
      fail(err);
    }
  });
  render(body, field("Every user must sign in with an authenticator code", box),
    res.policy.notEnforced.length ? h("ul", { class: "muted" }, res.policy.notEnforced.map((n) => h("li", {}, `Not enforced: ${n}`))) : null,
    can(me, "security:write") ? null : h("p", { class: "muted" }, "Only tenant admins may change this."));
  return section;
}
