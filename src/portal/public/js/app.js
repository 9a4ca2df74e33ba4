// The portal's shell: who is signed in (/api/me), hash routes to views, the navigation, and a heartbeat that
// notices when the control plane ended the session (sign-out elsewhere, revocation, suspended tenant).
import { del, get, onSignedOut, setCsrf } from "./api.js";
import { h, render, announce } from "./dom.js";
import { signInView } from "./views/signin.js";
import { dashboardView, prefetchDashboard } from "./views/dashboard.js";
import { usersView } from "./views/users.js";
import { keysView } from "./views/keys.js";
import { settingsView } from "./views/settings.js";
import { operatorView } from "./views/operator.js";
import { isolationView } from "./views/isolation.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const state = { me: null, heartbeat: 0, cleanup: [] };

const tenantPages = [
  ["", "Dashboard", dashboardView],
  ["users", "Users", usersView],
  ["keys", "API keys", keysView],
  ["settings", "Settings", settingsView],
];
const operatorPages = [
  ["", "Tenants", operatorView],
  ["isolation", "Isolation", isolationView],
];

/** #/t/<tenant id>/<page> · #/operator/<page> · #/signin */
function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (parts[0] === "t" && parts[1]) return { area: "tenant", tenantId: parts[1], page: parts[2] || "" };
  if (parts[0] === "operator") return { area: "operator", page: parts[1] || "" };
  return { area: "home" };
}

function link(href, text, current) {
  return h("a", { href, "aria-current": current ? "page" : null }, text);
}

function drawChrome(route) {
  const me = state.me;
  if (!me) return (render(nav), render(who));
  if (me.kind === "operator") {
    render(nav, operatorPages.map(([p, label]) => link(`#/operator${p ? `/${p}` : ""}`, label, route.area === "operator" && route.page === p)));
    if (route.area === "tenant") nav.append(link(`#/t/${route.tenantId}`, "Tenant dashboard", true));
  } else {
    const base = `#/t/${me.tenant.id}`;
    render(nav, tenantPages.map(([p, label]) => link(`${base}${p ? `/${p}` : ""}`, label, route.area === "tenant" && route.page === p)));
  }
  const label = me.kind === "operator" ? "Operator" : `${me.user.email} · ${me.user.role} · ${me.tenant.name}`;
  render(who, h("span", {}, label), h("button", { class: "link", type: "button", onclick: signOut }, "Sign out"));
}

async function signOut() {
  try {
    await del("/api/session");
  } catch {
    // Signed out already; the sign-in page follows either way.
  }
  showSignIn("You have signed out.");
}

function stopView() {
  for (const fn of state.cleanup.splice(0)) fn();
}

function showSignIn(message) {
  stopView();
  clearInterval(state.heartbeat);
  state.me = null;
  setCsrf("");
  drawChrome({ area: "home" });
  if (location.hash !== "#/signin") history.replaceState(null, "", "#/signin");
  signInView(main, { message, onSignedIn: start });
  announce(message || "Sign in");
}

async function route() {
  stopView();
  if (!state.me) return;
  const r = parseRoute();
  const me = state.me;
  if (r.area === "home" || (r.area === "operator" && me.kind !== "operator")) {
    location.hash = me.kind === "operator" ? "#/operator" : `#/t/${me.tenant.id}`;
    return;
  }
  drawChrome(r);
  const pages = r.area === "operator" ? operatorPages : tenantPages;
  const page = pages.find(([p]) => p === r.page);
  if (!page) return render(main, h("h1", {}, "Not found"), h("p", {}, "There is no such page."));
  const ctx = { me, tenantId: r.tenantId, onCleanup: (fn) => state.cleanup.push(fn) };
  // Each view renders into its own element: an answer that arrives after the user moved on lands in a
  // detached element instead of over the next page.
  const host = h("div");
  render(main, host);
  await page[2](host, ctx);
  main.focus({ preventScroll: true });
}

async function start() {
  // On a dashboard URL, ask for the dashboard alongside /api/me instead of after it: one round trip less.
  const first = parseRoute();
  if (first.area === "tenant" && first.page === "") prefetchDashboard(first.tenantId);
  try {
    state.me = await get("/api/me");
  } catch (err) {
    return showSignIn(err.status === 401 ? "" : err.message);
  }
  setCsrf(state.me.csrf);
  clearInterval(state.heartbeat);
  // The control plane may end the session at any time; the page learns it within one refresh period.
  state.heartbeat = setInterval(() => get("/api/me").catch(() => undefined), state.me.refreshMs || 15000);
  if (location.hash === "#/signin" || location.hash === "") location.hash = state.me.kind === "operator" ? "#/operator" : `#/t/${state.me.tenant.id}`;
  else route();
}

// Several requests may learn of the same sign-out; the first one's message (the reason) is the one shown.
onSignedOut((message) => {
  if (state.me) showSignIn(message);
});
window.addEventListener("hashchange", () => (location.hash === "#/signin" && !state.me ? undefined : route()));
start();
