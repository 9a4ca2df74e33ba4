// The tenant dashboard: one GetTenantDashboard call (through /api/tenants/<id>/dashboard) rendered as panels.
// A panel whose service is not part of this deployment, or which the role may not read, says so instead.
import { api, get } from "../api.js";
import { lineChart } from "../charts.js";
import { badge, h, money, ms, num, pct, render, when } from "../dom.js";

const WINDOWS = [["hour", "Hour"], ["day", "Day"], ["week", "Week"]];
const WINDOW_MS = { hour: 3_600_000, day: 86_400_000, week: 604_800_000 };

/** The empty-state line of a panel, only when its section answered (a missing service has its own note) */
const empty = (d, name, text) => (d.sections.find((x) => x.section === name)?.state === "ok" ? h("p", { class: "muted" }, text) : null);

function sectionNote(d, name) {
  const s = d.sections.find((x) => x.section === name);
  if (!s || s.state === "ok") return null;
  const text = s.state === "unavailable" ? `${s.message}.${name === "usage" && d.usage.length ? " Users are counted from UserService meanwhile." : ""}`
    : s.state === "forbidden" ? "Your role does not include this information." : `Could not load: ${s.message}`;
  return h("p", { class: "note off", dataset: { section: name, state: s.state } }, text);
}

/** A usage bar: green, amber from 80%, red from 90% of the limit */
export function usageBar(u) {
  const ratio = u.unlimited || !u.limit ? 0 : Number(u.used) / Number(u.limit);
  const level = ratio >= 0.9 ? "danger" : ratio >= 0.8 ? "warn" : "ok";
  const fill = h("div", { class: "fill" });
  fill.style.width = `${Math.min(100, ratio * 100)}%`;
  const limit = u.unlimited ? "unlimited" : `${num(u.limit)} ${u.unit}`;
  const label = `${u.resourceType.replace(/_/g, " ")}${u.period ? ` (this ${u.period})` : ""}`;
  return h("div", { class: `bar ${level}`, dataset: { resource: u.resourceType, level } },
    h("div", { class: "label" }, h("span", {}, label), h("span", {}, `${num(u.used)} of ${limit}${u.unlimited ? "" : ` · ${pct(ratio)}`}`)),
    h("div", { class: "track", role: "progressbar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": String(u.unlimited ? 0 : u.limit), "aria-valuenow": String(u.used),
      "aria-valuetext": `${num(u.used)} of ${limit}` }, fill));
}

function planPanel(t) {
  return h("section", { class: "card", "aria-labelledby": "p-plan" }, h("h2", { id: "p-plan" }, "Plan and status"),
    h("dl", { class: "kv" },
      h("dt", {}, "Tenant"), h("dd", { dataset: { field: "name" } }, `${t.name} (${t.slug})`),
      h("dt", {}, "Plan"), h("dd", { dataset: { field: "plan" } }, t.planType),
      h("dt", {}, "Status"), h("dd", { dataset: { field: "status" } }, badge(t.status)),
      h("dt", {}, "Performance tier"), h("dd", {}, `${t.performanceTier} · priority ${t.priorityLevel}`),
      h("dt", {}, "Rate limit"), h("dd", {}, `${num(t.apiRateLimit)} requests/min (burst ${num(t.burst)})`),
      h("dt", {}, "Response time cap"), h("dd", {}, ms(t.performanceQuota?.maxResponseTimeMs ?? 0)),
      h("dt", {}, "Since"), h("dd", {}, when(t.createdAt))));
}

function usagePanel(d) {
  return h("section", { class: "card", "aria-labelledby": "p-usage" }, h("h2", { id: "p-usage" }, "Usage against quotas"),
    sectionNote(d, "usage"), d.usage.map(usageBar));
}

function peoplePanel(d) {
  const m = d.analytics?.userMetrics ?? {};
  return h("section", { class: "card", "aria-labelledby": "p-people" }, h("h2", { id: "p-people" }, "People and keys"),
    sectionNote(d, "users"), sectionNote(d, "keys"),
    h("dl", { class: "kv" },
      h("dt", {}, "Users"), h("dd", { dataset: { metric: "users_total" } }, num(m.users_total)),
      h("dt", {}, "Admins"), h("dd", {}, num(m.users_admin)),
      h("dt", {}, "With MFA"), h("dd", {}, num(m.users_mfa_enabled)),
      h("dt", {}, "Active in 24 h"), h("dd", {}, num(m.users_active_24h)),
      h("dt", {}, "Active API keys"), h("dd", { dataset: { metric: "api_keys_active" } }, num(m.api_keys_active))));
}

function performancePanel(d, window, onWindow) {
  const pts = d.performance?.points ?? [];
  const t = (p) => new Date(p.at).getTime();
  // The x axis spans the whole window, so "the last hour" looks like an hour even with few points.
  const to = new Date(d.generatedAt).getTime();
  const span = { from: to - WINDOW_MS[window], to };
  const buttons = WINDOWS.map(([w, label]) =>
    h("button", { type: "button", class: w === window ? "" : "secondary", "aria-pressed": String(w === window), onclick: () => onWindow(w) }, label));
  const charts = d.performance ? [
    lineChart({ ...span, title: "Latency (ms)", format: (v) => `${Math.round(v)}`, series: [
      { name: "p50", points: pts.map((p) => ({ t: t(p), v: p.p50Ms })) }, { name: "p99", points: pts.map((p) => ({ t: t(p), v: p.p99Ms })) }] }),
    lineChart({ ...span, title: "Throughput (requests/s)", format: (v) => v.toFixed(v < 10 ? 1 : 0), series: [{ name: "rps", points: pts.map((p) => ({ t: t(p), v: p.throughputRps })) }] }),
    lineChart({ ...span, title: "Error rate (%)", format: (v) => v.toFixed(1), series: [{ name: "errors", points: pts.map((p) => ({ t: t(p), v: p.errorRate * 100 })) }] }),
  ] : [];
  return h("section", { class: "card wide", "aria-labelledby": "p-perf" }, h("h2", { id: "p-perf" }, "Performance"),
    h("div", { class: "tabs", role: "group", "aria-label": "Time window" }, buttons), sectionNote(d, "performance"),
    h("div", { class: "charts" }, charts));
}

function costsPanel(d) {
  const c = d.costs;
  return h("section", { class: "card", "aria-labelledby": "p-costs" }, h("h2", { id: "p-costs" }, "Costs"),
    sectionNote(d, "costs"),
    c ? [h("p", {}, "This period: ", h("strong", { dataset: { field: "cost-total" } }, money(c.totalMinor, c.currency)), ` (${when(c.periodStart)} – ${when(c.periodEnd)})`),
      h("table", {}, h("tbody", {}, c.lines.map((l) => h("tr", {}, h("td", {}, l.name), h("td", {}, money(l.amountMinor, c.currency))))))] : null,
    h("h2", {}, "Invoices"), sectionNote(d, "invoices"),
    d.invoices.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Period"), h("th", {}, "Status"), h("th", {}, "Total"), h("th", {}, "Issued"))),
      h("tbody", {}, d.invoices.map((i) => h("tr", {}, h("td", {}, i.period), h("td", {}, badge(i.status)), h("td", {}, money(i.totalMinor, i.currency)), h("td", {}, when(i.issuedAt))))))
      : empty(d, "invoices", "No invoices yet."));
}

function alertsPanel(d) {
  const open = d.alerts.filter((a) => !a.clearedAt);
  return h("section", { class: "card", "aria-labelledby": "p-alerts" }, h("h2", { id: "p-alerts" }, `Alerts (${open.length} open)`),
    sectionNote(d, "alerts"),
    d.alerts.length ? h("ul", {}, d.alerts.map((a) => h("li", {}, badge(a.severity), " ", a.message, h("span", { class: "muted" }, ` — raised ${when(a.raisedAt)}${a.clearedAt ? `, cleared ${when(a.clearedAt)}` : ""}`))))
      : empty(d, "alerts", "No alerts."));
}

function compliancePanel(d) {
  return h("section", { class: "card", "aria-labelledby": "p-comp" }, h("h2", { id: "p-comp" }, "Compliance"),
    sectionNote(d, "compliance"),
    d.compliance.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Standard"), h("th", {}, "Status"), h("th", {}, "Score"), h("th", {}, "Report"))),
      h("tbody", {}, d.compliance.map((c) => h("tr", { dataset: { standard: c.standard } }, h("td", {}, c.standard), h("td", {}, badge(c.status)), h("td", {}, pct(c.score)), h("td", {}, when(c.generatedAt))))))
      : empty(d, "compliance", "No compliance reports yet: generate one with tenantmesh compliance report."));
}

function recommendationsPanel(d) {
  return h("section", { class: "card", "aria-labelledby": "p-rec" }, h("h2", { id: "p-rec" }, "Recommendations"),
    sectionNote(d, "recommendations"),
    d.recommendations.length ? h("ul", {}, d.recommendations.map((r) => h("li", {}, h("strong", {}, `${r.title} `), badge(r.category), h("p", {}, r.reason), r.action ? h("p", { class: "muted" }, r.action) : null)))
      : empty(d, "recommendations", "Nothing to recommend right now."));
}

/** A dashboard request started before /api/me answered (see app.js), used once by the first render */
let early = null;
export function prefetchDashboard(tenantId) {
  const url = `/api/tenants/${encodeURIComponent(tenantId)}/dashboard?window=hour`;
  early = { url, answer: api("GET", url, undefined, { quiet: true }) };
  early.answer.catch(() => undefined);
}

export async function dashboardView(main, { me, tenantId, onCleanup }) {
  let window = "hour";
  let first = true;
  let shown = "";
  async function load(focusWindow = false) {
    let d;
    try {
      const url = `/api/tenants/${encodeURIComponent(tenantId)}/dashboard?window=${window}`;
      const prefetched = early?.url === url ? early.answer : null;
      early = null;
      d = await (prefetched ?? get(url));
    } catch (err) {
      if (err.status === 401) return;
      const denied = err.status === 403 || err.status === 404 || err.status === 400;
      return render(main, h("h1", {}, denied ? "No access" : "Dashboard unavailable"),
        h("p", { class: "error", role: "alert", dataset: { denied: String(denied) } }, denied ? "You do not have access to this tenant." : err.message));
    }
    // A refresh that changed nothing leaves the page (and the keyboard focus) alone.
    const key = JSON.stringify({ ...d, generatedAt: null, window });
    if (key === shown) return;
    shown = key;
    render(main, h("h1", {}, `${d.tenant.name} — dashboard`),
      h("p", { class: "muted" }, `Updated ${when(d.generatedAt)}${me.kind === "operator" ? " · viewing as operator" : ""}`),
      h("div", { class: "grid", id: "dashboard" }, planPanel(d.tenant), usagePanel(d), peoplePanel(d), performancePanel(d, window, (w) => ((window = w), load(true))),
        costsPanel(d), alertsPanel(d), compliancePanel(d), recommendationsPanel(d)));
    if (focusWindow) main.querySelector('[aria-pressed="true"]')?.focus();
    if (first) {
      first = false;
      performance.mark("tm:dashboard-ready");
      document.documentElement.dataset.ready = "dashboard";
    }
  }
  await load();
  const timer = setInterval(() => load(), me.refreshMs || 15000);
  onCleanup(() => clearInterval(timer));
}
