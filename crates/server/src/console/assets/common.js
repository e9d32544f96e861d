// Shared by every console page: DOM building (text only, never HTML strings), the
// report's number formats, charts as SVG, JSON reads and the one push stream per page.
"use strict";

const D = document.body.dataset;

/** An element: h("td", {class: "n"}, "12", child…). Strings become text nodes. */
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    // Styles through the CSSOM: the pages' CSP refuses style attributes.
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

/** Replaces the children of element `id` (creating nothing if it is absent). */
function fill(id, ...kids) {
  const e = document.getElementById(id);
  if (e) e.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
  return e;
}

/** Integer with thousands separators. */
function num(n) {
  if (n === null || n === undefined) return "—";
  const neg = n < 0, s = String(Math.abs(Math.trunc(n)));
  return (neg ? "-" : "") + s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Fen as the report prints it: ¥ with every fen, e.g. ¥1,234.05. Exact for any
 *  amount below 2^53 fen. */
function yuan(fen) {
  if (fen === null || fen === undefined) return "—";
  const neg = fen < 0, a = Math.abs(fen);
  const y = Math.floor(a / 100), c = a % 100;
  return (neg ? "-" : "") + "¥" + num(y) + "." + String(c).padStart(2, "0");
}

/** Basis points as a percent with two decimals. */
function pct(bp) {
  if (bp === null || bp === undefined) return "—";
  return (bp / 100).toFixed(2) + "%";
}

/** A board's score in its metric's unit: GMV in ¥, growth in percent, heat as a count. */
function score(metric, v) {
  if (metric === "gmv") return yuan(v);
  if (metric === "gmv_growth") return (v >= 0 ? "+" : "") + pct(v);
  return num(v);
}

/** A multiple ×100 as "2.34×". */
function times(x100) { return (x100 / 100).toFixed(2) + "×"; }

const SHANGHAI_MS = 8 * 3600 * 1000;
/** A time as the API gives it (RFC 3339 with its offset) or milliseconds, as ms. */
function ms(t) { return typeof t === "string" ? Date.parse(t) : t; }
/** A time as Asia/Shanghai "YYYY-MM-DD HH:MM". */
function when(t) {
  if (t === null || t === undefined) return "—";
  const d = new Date(ms(t) + SHANGHAI_MS);
  const p = (x) => String(x).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}
/** A festival day as YYYY-MM-DD (the API gives days so already). */
function dayName(d) { return typeof d === "string" ? d : when(d * 86400000 - SHANGHAI_MS).slice(0, 10); }
/** A duration in ms as "3d 04:05:06". */
function span(ms) {
  if (ms < 0) ms = 0;
  const s = Math.floor(ms / 1000), dd = Math.floor(s / 86400);
  const p = (x) => String(x).padStart(2, "0");
  return (dd ? dd + "d " : "") + `${p(Math.floor(s % 86400 / 3600))}:${p(Math.floor(s % 3600 / 60))}:${p(s % 60)}`;
}

/** Names as the report gives them: Chinese with the English beside. */
function named(zh, en) { return zh && en && zh !== en ? `${zh} ${en}` : (zh || en || ""); }

/** GET a JSON document with the page's cookie; throws the problem's detail on an error. */
async function getJSON(url) {
  const r = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${r.status} ${body.code || ""}: ${body.detail || r.statusText}`);
  return body;
}

/** Shows an error in place of the page's content. */
function failed(err) {
  fill("app", h("p", {class: "error", id: "error"}, String(err.message || err)));
}

/** Follows `topics` on the page's one push connection; `on(topic, value, seq)`. The
 *  browser reconnects by itself, sending Last-Event-ID, so nothing is missed. */
function follow(topics, on) {
  const live = document.getElementById("live");
  const es = new EventSource("/v1/events?topics=" + encodeURIComponent(topics.join(",")));
  es.onopen = () => { live.textContent = "● live"; live.className = "live on"; };
  es.onerror = () => { live.textContent = "○ reconnecting"; live.className = "live off"; };
  for (const t of topics) {
    es.addEventListener(t, (ev) => {
      window.__updates = (window.__updates || 0) + 1;
      on(t, JSON.parse(ev.data), Number(ev.lastEventId));
    });
  }
  return es;
}

/** Round numbers for an axis over [0, max]: the step is 1, 2 or 5 × 10^k, so the axis
 *  follows the data however large it grows (no hard-coded maximum). */
function ticks(max, want) {
  if (!(max > 0)) return [0, 1];
  const raw = max / (want || 4), mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v < max + step; v += step) out.push(v);
  return out;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

/** A bar chart: `bars` = [{label, value, title}], values in fen, axis in yuan. */
function barChart(bars, colour) {
  const W = 800, H = 240, L = 80, B = 26, T = 10;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const tk = ticks(max, 4), top = tk[tk.length - 1] || 1;
  const svg = s("svg", {class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img"});
  for (const v of tk) {
    const y = T + (H - T - B) * (1 - v / top);
    svg.append(s("line", {class: "grid", x1: L, x2: W, y1: y, y2: y}));
    svg.append(s("text", {x: L - 6, y: y + 4, "text-anchor": "end"}, compactYuan(v)));
  }
  const bw = (W - L) / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const hgt = (H - T - B) * Math.max(0, b.value) / top;
    const r = s("rect", {x: L + i * bw + bw * 0.1, y: H - B - hgt, width: Math.max(1, bw * 0.8), height: hgt, fill: colour || "#56b4e9"});
    r.append(s("title", {}, b.title || `${b.label}: ${yuan(b.value)}`));
    svg.append(r);
  });
  const every = Math.max(1, Math.ceil(bars.length / 8));
  bars.forEach((b, i) => {
    if (i % every === 0) svg.append(s("text", {x: L + i * bw + bw / 2, y: H - 6, "text-anchor": "middle"}, b.label));
  });
  svg.dataset.max = String(top);
  return svg;
}

/** An axis label: fen as ¥ with 万 / 亿 for large amounts. */
function compactYuan(fen) {
  const y = fen / 100;
  if (y >= 1e8) return "¥" + (y / 1e8).toFixed(y >= 1e9 ? 0 : 1) + "亿";
  if (y >= 1e4) return "¥" + (y / 1e4).toFixed(y >= 1e5 ? 0 : 1) + "万";
  return "¥" + Math.round(y);
}

/** A horizontal split: [{label, value}] as shares of their sum. */
function split(parts) {
  const total = parts.reduce((a, p) => a + Math.max(0, p.value), 0);
  const colours = ["#56b4e9", "#e69f00", "#009e73", "#cc79a7", "#f0e442", "#0072b2", "#d55e00"];
  return h("table", {},
    parts.map((p, i) => h("tr", {},
      h("td", {}, h("span", {class: "swatch", style: `background:${colours[i % colours.length]}`}), p.label),
      h("td", {class: "n"}, yuan(p.value)),
      h("td", {class: "n"}, total ? ((100 * p.value) / total).toFixed(1) + "%" : "—"))));
}

/** An axis label for a count: with 万 / 亿 for large ones. */
function compactNum(n) {
  if (n >= 1e8) return (n / 1e8).toFixed(n >= 1e9 ? 0 : 1) + "亿";
  if (n >= 1e4) return (n / 1e4).toFixed(n >= 1e5 ? 0 : 1) + "万";
  return String(Math.round(n));
}

/** A line chart of counts over `labels` (evenly spaced): `lines` = [{name, values,
 *  colour, dash}], a null value not drawn (a line may stop early); `mark`, an index, gets
 *  a vertical line ("now"). The axis is chosen from the data as the bar chart's is. */
function lineChart(labels, lines, mark) {
  const W = 800, H = 240, L = 80, B = 26, T = 10, R = 12;
  const max = Math.max(0, ...lines.flatMap((l) => l.values.filter((v) => v !== null && v !== undefined)));
  const tk = ticks(max, 4), top = tk[tk.length - 1] || 1;
  const n = labels.length;
  const x = (i) => L + (n > 1 ? (W - L - R) * i / (n - 1) : (W - L - R) / 2);
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const svg = s("svg", {class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img"});
  for (const v of tk) {
    svg.append(s("line", {class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v)}));
    svg.append(s("text", {x: L - 6, y: y(v) + 4, "text-anchor": "end"}, compactNum(v)));
  }
  if (mark !== null && mark !== undefined && mark >= 0 && mark < n) {
    svg.append(s("line", {class: "now", x1: x(mark), x2: x(mark), y1: T, y2: H - B}));
  }
  for (const l of lines) {
    const pts = [];
    l.values.forEach((v, i) => { if (v !== null && v !== undefined) pts.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`); });
    if (!pts.length) continue;
    const attrs = {fill: "none", stroke: l.colour, "stroke-width": 3, points: pts.join(" "), "data-line": l.name};
    if (l.dash) attrs["stroke-dasharray"] = "8 6";
    const line = s(pts.length > 1 ? "polyline" : "circle", pts.length > 1 ? attrs
      : {cx: pts[0].split(",")[0], cy: pts[0].split(",")[1], r: 4, fill: l.colour, "data-line": l.name});
    line.append(s("title", {}, l.name));
    svg.append(line);
  }
  const every = Math.max(1, Math.ceil(n / 8));
  labels.forEach((lb, i) => {
    // The last day always, anchored at its end; the others every `every`, clear of it.
    const last = i === n - 1;
    if (last || (i % every === 0 && n - 1 - i >= every)) svg.append(s("text", {x: x(i), y: H - 6, "text-anchor": last && n > 1 ? "end" : "middle"}, lb));
  });
  svg.dataset.max = String(top);
  return svg;
}

/** A legend for a chart's lines: [{name, colour}]. */
function legend(lines) {
  return h("div", {class: "legend muted"}, lines.map((l) =>
    h("span", {}, h("span", {class: "swatch", style: `background:${l.colour}`}), l.name)));
}

/** Impressions ahead of (+) or behind (−) a target, coloured. */
function ahead(x) {
  return h("span", {class: x < 0 ? "down" : x > 0 ? "up" : "muted"}, (x > 0 ? "+" : "") + num(x));
}

/** A delivery curve ([{day, cumulative, target}]) as delivered so far against the target;
 *  the delivered line stops at `today` (the book's day), where the "now" line is. */
function deliveryChart(curve, today) {
  const DELIVERED = {name: "Delivered 已交付", colour: "#56b4e9"};
  const TARGET = {name: "Target 目标", colour: "#e69f00", dash: true};
  let mark = -1;
  curve.forEach((p, i) => { if (today && p.day <= today) mark = i; });
  const chart = lineChart(curve.map((p) => dayName(p.day).slice(5)), [
    Object.assign({values: curve.map((p, i) => (i <= mark ? p.cumulative : null))}, DELIVERED),
    Object.assign({values: curve.map((p) => p.target)}, TARGET),
  ], mark);
  return [chart, legend([DELIVERED, TARGET])];
}
