// The operator's view: every tenant with status, plan, usage and health; provisioning; suspend and reactivate;
// pending plan-change requests (approving applies the plan with UpdateTenant, then records the decision).
import { get, post } from "../api.js";
import { announce, badge, confirmButton, errorBox, field, h, num, render, successBox } from "../dom.js";
import { showSecretOnce } from "./keys.js";

const PLANS = ["free", "basic", "professional", "enterprise"];

function usageSummary(row) {
  if (row.usage.length === 0) return h("span", { class: "muted" }, "—");
  return h("ul", { class: "muted" }, row.usage.map((u) => h("li", {}, `${u.resourceType.replace(/_/g, " ")}: ${num(u.used)}${u.unlimited ? "" : ` / ${num(u.limit)}`}`)));
}

export async function operatorView(main) {
  const messages = h("div", { id: "operator-messages" });
  const tableBody = h("tbody");
  const more = h("div");
  const requests = h("div");
  const ok = (text) => (render(messages, successBox(text)), announce(text));
  const fail = (err) => render(messages, errorBox(err.message));

  function row(r) {
    const t = r.tenant;
    const reason = h("input", { "aria-label": `Reason for ${t.slug}`, placeholder: "reason", maxlength: "500", size: "12" });
    const act = async (action) => {
      try {
        await post(`/api/operator/tenants/${t.id}/${action}`, { reason: reason.value });
        ok(`${t.name} is now ${action === "suspend" ? "suspended" : "active"}.`);
        await load(true);
      } catch (err) {
        fail(err);
      }
    };
    const actions = t.status === "active" ? [reason, confirmButton("Suspend", `Confirm suspending ${t.slug}`, () => act("suspend"))]
      : t.status === "suspended" ? [reason, h("button", { type: "button", onclick: () => act("reactivate") }, "Reactivate")] : [];
    return h("tr", { dataset: { slug: t.slug } },
      h("td", {}, h("a", { href: `#/t/${t.id}` }, t.name), h("div", { class: "muted" }, t.slug)), h("td", {}, t.planType), h("td", {}, badge(t.status)),
      h("td", {}, badge(r.health)), h("td", {}, usageSummary(r)), h("td", {}, num(r.alerts.length)), h("td", {}, h("div", { class: "row-actions" }, actions)));
  }

  async function load(reset = true, pageToken = "") {
    try {
      const res = await get(`/api/operator/tenants${pageToken ? `?pageToken=${encodeURIComponent(pageToken)}` : ""}`);
      if (reset) tableBody.replaceChildren();
      tableBody.append(...res.tenants.map(row));
      render(more, res.nextPageToken ? h("button", { type: "button", class: "secondary", onclick: () => load(false, res.nextPageToken) }, "More tenants") : null);
    } catch (err) {
      if (err.status !== 401) fail(err);
    }
    await loadRequests();
  }

  async function loadRequests() {
    try {
      const res = await get("/api/operator/plan-requests");
      render(requests, res.requests.length === 0 ? h("p", { class: "muted" }, "No pending requests.") : h("ul", {}, res.requests.map((r) => {
        const note = h("input", { "aria-label": "Note", placeholder: "note", maxlength: "500", size: "14" });
        const decide = async (approve) => {
          try {
            await post(`/api/operator/plan-requests/${r.id}`, { tenantId: r.tenantId, approve, note: note.value });
            ok(approve ? `Plan changed to ${r.requestedPlan}.` : "Request rejected.");
            await load(true);
          } catch (err) {
            fail(err);
          }
        };
        return h("li", { dataset: { request: r.id } }, `${r.tenantId.slice(0, 8)}…: ${r.currentPlan} → ${r.requestedPlan} — “${r.reason}” by ${r.requestedBy} `,
          note, h("button", { type: "button", onclick: () => decide(true) }, "Approve"), " ", h("button", { type: "button", class: "secondary", onclick: () => decide(false) }, "Reject"));
      })));
    } catch (err) {
      if (err.status !== 401) render(requests, errorBox(err.message));
    }
  }

  const name = h("input", { required: true, maxlength: "200" });
  const slug = h("input", { required: true, pattern: "[a-z0-9-]{3,50}", spellcheck: "false" });
  const plan = h("select", {}, PLANS.map((p) => h("option", { value: p, selected: p === "basic" }, p)));
  const adminEmail = h("input", { type: "email", required: true });
  const form = h("form", { class: "inline", "aria-label": "Provision a tenant" },
    field("Name", name), field("Slug", slug), field("Plan", plan), field("Admin email", adminEmail), h("button", { type: "submit" }, "Provision"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const res = await post("/api/operator/tenants", { name: name.value.trim(), slug: slug.value.trim(), planType: plan.value, adminEmail: adminEmail.value.trim() });
      form.reset();
      if (!res.replayed) showSecretOnce(`Tenant ${res.tenant.name} provisioned`, [["Admin password", res.adminPassword], ["First API key", res.apiKey]]);
      ok(`Provisioned ${res.tenant.name}.`);
      await load(true);
    } catch (err) {
      fail(err);
    }
  });

  render(main, h("h1", {}, "Tenants"), messages,
    h("section", { class: "card", "aria-labelledby": "o-new" }, h("h2", { id: "o-new" }, "Provision a tenant"), form),
    h("section", { class: "card", "aria-labelledby": "o-req" }, h("h2", { id: "o-req" }, "Plan change requests"), requests),
    h("section", { class: "card", "aria-labelledby": "o-list" }, h("h2", { id: "o-list" }, "All tenants"),
      h("table", {}, h("caption", { class: "sr-only" }, "Tenants"),
        h("thead", {}, h("tr", {}, ["Tenant", "Plan", "Status", "Health", "Usage", "Open alerts", "Actions"].map((c) => h("th", { scope: "col" }, c)))), tableBody), more));
  await load(true);
}
