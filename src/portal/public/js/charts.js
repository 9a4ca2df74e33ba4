// Hand-drawn SVG line charts: no library, nothing fetched. Each chart names itself and states its latest
// values in text (aria-label and a caption), so it is readable without seeing the lines.

const NS = "http://www.w3.org/2000/svg";
const W = 520;
const H = 180;
const PAD = { l: 52, r: 12, t: 12, b: 26 };

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const timeLabel = (t, spanMs) =>
  new Date(t).toLocaleString("en-GB", spanMs > 36 * 3600_000 ? { day: "2-digit", month: "short", hour: "2-digit" } : { hour: "2-digit", minute: "2-digit" });

/**
 * series: [{ name, points: [{ t: epoch ms, v: number }] }]; format(v) renders a value for labels; from/to
 * (epoch ms) fix the time axis, else it spans the points.
 * Returns a <figure> with the SVG, a legend and a one-line text summary.
 */
export function lineChart({ title, series, format = String, from, to }) {
  const all = series.flatMap((s) => s.points);
  const fig = document.createElement("figure");
  fig.className = "chart";
  const caption = document.createElement("figcaption");
  caption.className = "muted";
  if (all.length === 0) {
    caption.textContent = `${title}: no data in this window yet.`;
    fig.append(caption);
    return fig;
  }
  const t0 = from ?? Math.min(...all.map((p) => p.t));
  const t1 = to ?? Math.max(...all.map((p) => p.t));
  const vMax = Math.max(...all.map((p) => p.v), 0) * 1.1 || 1;
  const x = (t) => PAD.l + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / vMax) * (H - PAD.t - PAD.b);

  const latest = series.map((s) => `${s.name} ${s.points.length ? format(s.points[s.points.length - 1].v) : "—"}`).join(", ");
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}. Latest: ${latest}.` });
  root.append(svg("title", {}, title));
  for (const frac of [0, 0.5, 1]) {
    const v = vMax * frac;
    root.append(svg("line", { class: frac === 0 ? "axis" : "grid", x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v) }));
    root.append(svg("text", { x: PAD.l - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  root.append(svg("line", { class: "axis", x1: PAD.l, x2: PAD.l, y1: PAD.t, y2: H - PAD.b }));
  root.append(svg("text", { x: PAD.l, y: H - 6 }, timeLabel(t0, t1 - t0)));
  root.append(svg("text", { x: W - PAD.r, y: H - 6, "text-anchor": "end" }, timeLabel(t1, t1 - t0)));
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    root.append(svg("path", { class: `line s${i}`, d }));
    if (s.points.length === 1) root.append(svg("circle", { class: `line s${i}`, cx: x(s.points[0].t), cy: y(s.points[0].v), r: 3 }));
  });
  const legend = document.createElement("div");
  legend.className = "legend";
  series.forEach((s, i) => {
    const k = document.createElement("span");
    k.className = `k${i}`;
    k.textContent = `━ ${s.name}`;
    legend.append(k);
  });
  caption.textContent = `${title} — latest: ${latest}`;
  fig.append(root, legend, caption);
  return fig;
}
