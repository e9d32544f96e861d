// A live session's 复盘 review: 进人 → 留人 → 转化, benefits, products, minute curve.
"use strict";

function table(rows) {
  return h("table", {}, rows.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {class: "n"}, v))));
}

async function load() {
  try {
    const r = await getJSON(`/v1/sessions/${encodeURIComponent(D.session)}/review?top=10`);
    const curve = r.curve.map((m, i) => ({label: `${i}′`, value: m.viewers !== undefined ? m.viewers : 0,
      title: `minute ${i}: ${num(m.viewers)} viewers`}));
    fill("app", h("div", {class: "grid"},
      h("section", {class: "panel wide"}, h("h2", {}, `复盘 Review · ${r.session} · ${r.anchor_name} (${r.anchor})`),
        h("p", {class: "muted"}, `${when(r.start)} → ${r.live ? "live now" : when(r.end)} · ${span(r.duration_s * 1000)}`)),
      h("section", {class: "panel"}, h("h2", {}, "进人 Bring in"), table([
        ["Unique viewers", num(r.bring_in.unique_viewers)], ["Entries", num(r.bring_in.entries)],
        ["Peak viewers", num(r.bring_in.peak_viewers)], ["Viewers now", num(r.bring_in.viewers_now)],
        ["New followers", num(r.bring_in.new_followers)]])),
      h("section", {class: "panel"}, h("h2", {}, "留人 Keep"), table([
        ["Average watch", span(r.keep.avg_watch_ms)], ["Median watch", span(r.keep.median_watch_ms)],
        ["Interactions", num(r.keep.interactions_total)]])),
      h("section", {class: "panel"}, h("h2", {}, "转化 Convert"), table([
        ["GMV", yuan(r.convert.gmv)], ["Orders", num(r.convert.orders)], ["Buyers", num(r.convert.buyers)],
        ["Conversion", pct(r.convert.conversion_bp)], ["GPM (per 1,000 viewers)", yuan(r.convert.gpm)],
        ["Average order", yuan(r.convert.avg_order_value)]])),
      h("section", {class: "panel"}, h("h2", {}, "Benefits 权益"), table([
        ["Discounts", yuan(r.benefits.discounts)], ["Red packets granted", yuan(r.benefits.red_packets.granted)],
        ["Coupons redeemed", num(r.benefits.coupons.redeemed)]])),
      h("section", {class: "panel wide"}, h("h2", {}, "Viewers by minute 分钟在线"), barChartCount(curve)),
      h("section", {class: "panel wide"}, h("h2", {}, "Top products 商品"),
        h("table", {}, h("tr", {}, ["Merchant", "SKU", "Orders", "Qty", "Paid"].map((x) => h("th", {}, x))),
          r.top_products.map((p) => h("tr", {}, h("td", {}, p.merchant), h("td", {}, p.sku), h("td", {class: "n"}, num(p.orders)),
            h("td", {class: "n"}, num(p.qty)), h("td", {class: "n"}, yuan(p.paid))))))));
  } catch (err) { failed(err); }
}

/** The bar chart with a count axis rather than money. */
function barChartCount(bars) {
  const svg = barChart(bars.map((b) => Object.assign({}, b, {value: b.value * 100})), "#009e73");
  for (const t of svg.querySelectorAll("text[text-anchor=end]")) t.textContent = t.textContent.replace("¥", "");
  return svg;
}

load();
follow([`session:${D.session}`], () => load());
