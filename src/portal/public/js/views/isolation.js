// The isolation report (MonitorService.GetIsolationReport): which tenants are slower than their own baseline
// right now, and which tenants were using most of the capacity at the time.
import { get } from "../api.js";
import { errorBox, h, ms, pct, render } from "../dom.js";

export async function isolationView(main) {
  render(main, h("h1", {}, "Isolation"), h("p", { class: "muted" }, "Loading…"));
  let report;
  try {
    report = await get("/api/operator/isolation");
  } catch (err) {
    if (err.status !== 401) render(main, h("h1", {}, "Isolation"), errorBox(err.message));
    return;
  }
  if (!report.available) {
    return render(main, h("h1", {}, "Isolation"), h("p", { class: "note off", dataset: { section: "isolation", state: "unavailable" } }, `${report.message}.`));
  }
  const flagged = report.tenants.filter((t) => t.flagged);
  render(main, h("h1", {}, "Isolation"),
    h("p", {}, flagged.length === 0 ? "No tenant is impacted by others right now." : `${flagged.length} tenant(s) are slower than their baseline right now.`),
    h("table", {}, h("caption", { class: "sr-only" }, "Tenants against their latency baseline"),
      h("thead", {}, h("tr", {}, ["Tenant", "Baseline p99", "Current p99", "Impacted", "Using most capacity"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, report.tenants.map((t) => h("tr", { dataset: { flagged: String(t.flagged) } },
        h("td", {}, t.label || t.tenantId), h("td", {}, t.baselineP99Ms ? ms(t.baselineP99Ms) : "no baseline yet"), h("td", {}, ms(t.currentP99Ms)),
        h("td", {}, t.flagged ? "yes" : "no"),
        h("td", {}, t.topConsumers.map((c) => `${c.label || c.tenantId} (${pct(c.capacityShare)})`).join(", ") || "—"))))));
}
