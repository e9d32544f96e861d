// A participant's own view (merchant/brand, anchor or provider), from the
// `participant:ROLE:ID` topic; an operator may open any participant's.
"use strict";

function gap(metric, points) {
  if (points === null || points === undefined) return "—";
  return metric === "gmv" ? yuan(points) : metric === "gmv_growth" ? pct(points) + " pts" : num(points);
}

function standings(races) {
  const rows = [];
  for (const r of races) {
    for (const b of r.boards) {
      rows.push(h("tr", {"data-race": r.race},
        h("td", {}, h("a", {href: "/boards/" + encodeURIComponent(r.race)}, named(r.name_zh, r.name_en)),
          b.day !== null ? ` · ${dayName(b.day)}` : "", b.group ? ` · ${b.group}` : ""),
        h("td", {}, b.status),
        h("td", {class: "n rank"}, b.rank ? `${b.rank} / ${num(b.of)}` : "unranked"),
        h("td", {class: "n"}, score(r.metric, b.score)),
        h("td", {class: "n"}, gap(r.metric, b.gap_to_above)),
        h("td", {class: "n"}, b.next_band ? `band ${b.next_band.band}: ${gap(r.metric, b.next_band.points)}` : "—"),
        h("td", {class: "n"}, b.reward_fen ? yuan(b.reward_fen) : "")));
    }
    if (!r.boards.length && r.not_ranked) rows.push(h("tr", {}, h("td", {}, named(r.name_zh, r.name_en)), h("td", {colspan: 6, class: "muted"}, r.not_ranked)));
  }
  if (!rows.length) return h("p", {class: "muted"}, "On no board yet.");
  return h("table", {}, h("tr", {}, ["Board 榜单", "Status", "Rank 排名", "Score 分值", "To the place above 距上一名", "To the next band 距下一档", "Provisional 预计奖励"]
    .map((x, i) => h("th", {class: i > 1 ? "n" : null}, x))), rows);
}

function challenges(races) {
  const cs = races.filter((r) => r.challenge);
  if (!cs.length) return h("p", {class: "muted"}, "No challenges.");
  const c = (x) => x.challenge;
  return h("table", {}, h("tr", {}, ["Challenge 挑战", "Best 最佳", "Target 目标", "Achieved 达成", "Band 档位", "Reward 奖励"].map((x) => h("th", {}, x))),
    cs.map((r) => h("tr", {"data-race": r.race},
      h("td", {}, named(r.name_zh, r.name_en)),
      h("td", {class: "n"}, c(r).best !== undefined ? score(r.metric, c(r).best) : "—"),
      h("td", {class: "n"}, c(r).target_fen !== undefined ? yuan(c(r).target_fen) : "—"),
      h("td", {class: "n"}, c(r).achieved !== undefined ? num(c(r).achieved) : "—"),
      h("td", {class: "n"}, c(r).band ? "band " + c(r).band : "—"),
      h("td", {class: "wrap"}, (c(r).rewards || []).map((w) => w.kind + (w.amount_fen ? " " + yuan(w.amount_fen) : "") + (w.rebate_bp ? " " + pct(w.rebate_bp) : "")).join(", ") || "—"))));
}

async function explain(payout, into) {
  try {
    const e = await getJSON("/v1/payouts/" + encodeURIComponent(payout));
    into.replaceChildren(h("pre", {}, JSON.stringify(e, null, 2)));
  } catch (err) { into.replaceChildren(h("span", {class: "error"}, String(err.message))); }
}

function earnings(e) {
  const lines = e.lines.map((l) => {
    const more = h("div", {});
    const d = h("details", {}, h("summary", {}, "explain 说明"), more);
    d.addEventListener("toggle", () => { if (d.open && !more.childElementCount) explain(l.payout, more); }, {once: false});
    return h("tr", {"data-payout": l.payout},
      h("td", {class: "n"}, l.line), h("td", {}, l.kind), h("td", {}, l.race, l.day !== null ? ` · ${dayName(l.day)}` : ""),
      h("td", {}, l.name || l.item), h("td", {class: "n"}, l.unit === "fen" ? yuan(l.amount) : `${num(l.amount)} ${l.unit}`),
      h("td", {class: "wrap"}, l.rule), h("td", {}, d));
  });
  return [h("div", {class: "figures"},
    h("div", {class: "figure"}, h("div", {class: "label"}, "Settled 已结算"), h("div", {class: "value", id: "awarded"}, yuan(e.awarded_fen))),
    h("div", {class: "figure"}, h("div", {class: "label"}, "Clawed back 追回"), h("div", {class: "value", id: "clawed"}, yuan(e.clawed_back_fen))),
    h("div", {class: "figure"}, h("div", {class: "label"}, "Net 净额"), h("div", {class: "value", id: "net", "data-fen": e.net_fen}, yuan(e.net_fen)))),
    lines.length ? h("table", {}, h("tr", {}, ["Line", "Kind", "Board", "Item", "Amount", "Rule", ""].map((x) => h("th", {}, x))), lines)
      : h("p", {class: "muted"}, "Nothing settled yet; provisional rewards are on the boards above.")];
}

function sessions(list) {
  if (!list.length) return h("p", {class: "muted"}, "No live sessions.");
  return h("table", {}, h("tr", {}, ["Session 场次", "Start", "GMV", "Orders", "Viewers"].map((x) => h("th", {}, x))),
    list.map((x) => h("tr", {}, h("td", {}, h("a", {href: "/sessions/" + encodeURIComponent(x.session)}, x.session, " 复盘")),
      h("td", {}, when(x.start)), h("td", {class: "n"}, yuan(x.gmv_fen)), h("td", {class: "n"}, num(x.orders)),
      h("td", {class: "n"}, num(x.unique_viewers)))));
}

/** Its guaranteed-traffic contracts (as GET /v1/contracts/{id}): delivered against the
 *  promise and the target now, how it ended, and each one's curve. */
function traffic(t) {
  if (!t.contracts.length) return h("p", {class: "muted"}, "No traffic contracts.");
  const now = t.now ? ms(t.now) : null;
  const status = (c) => !c.ended ? (now === null || ms(c.start) > now ? "not started 未开始"
      : ms(c.end) <= now ? "window over, closing 待结束" : "running 投放中")
    : !c.ended.shortfall ? "delivered in full 已足量"
    : c.ended.make_good ? `short by ${num(c.ended.shortfall)}, made good by ${c.ended.make_good}`
    : `short by ${num(c.ended.shortfall)}, owed 欠量`;
  return [
    h("table", {}, h("tr", {}, ["Contract 合约", "Window 投放期", "Promised 承诺", "Delivered 已交付", "Of promised 完成", "Target now 当前目标", "Ahead / behind 超前 / 落后", "Status 状态"]
      .map((x, i) => h("th", {class: i > 1 && i < 7 ? "n" : null}, x))),
      t.contracts.map((c) => h("tr", {"data-contract": c.id},
        h("td", {}, c.id), h("td", {}, `${when(c.start)} → ${when(c.end)}`),
        h("td", {class: "n"}, num(c.impressions)), h("td", {class: "n delivered", "data-n": c.delivered}, num(c.delivered)),
        h("td", {class: "n"}, h("div", {class: "bar", title: pct(c.delivered_bp)}, h("span", {style: `width:${Math.min(100, c.delivered_bp / 100).toFixed(1)}%`})), pct(c.delivered_bp)),
        h("td", {class: "n"}, num(c.target_now)), h("td", {class: "n ahead", "data-n": c.ahead}, ahead(c.ahead)),
        h("td", {class: "status"}, status(c))))),
    t.total > t.contracts.length ? h("div", {class: "muted"}, `the latest ${t.contracts.length} of ${num(t.total)}`) : null,
    h("div", {class: "boards curves"}, t.contracts.filter((c) => c.curve.length).map((c) =>
      h("div", {class: "curve", "data-contract": c.id}, h("h3", {}, c.id), deliveryChart(c.curve, t.today)))),
  ];
}

function render(v) {
  if (v === null) return failed(new Error(`no ${D.role} \`${D.id}\` in this festival`));
  fill("app", h("div", {class: "grid"},
    h("section", {class: "panel wide"}, h("h2", {}, `${v.role} ${v.participant}` + (v.tier ? ` · tier ${v.tier}` : "")),
      h("div", {class: "figures"},
        h("div", {class: "figure big"}, h("div", {class: "label"}, `GMV today 今日 (${dayName(v.today)})`),
          h("div", {class: "value", id: "gmv-today", "data-fen": v.gmv_today_fen}, yuan(v.gmv_today_fen || 0))),
        h("div", {class: "figure big"}, h("div", {class: "label"}, "GMV in total 累计"),
          h("div", {class: "value", id: "gmv", "data-fen": v.gmv_fen}, yuan(v.gmv_fen))),
        h("div", {class: "figure"}, h("div", {class: "label"}, "Orders 订单"), h("div", {class: "value", id: "orders"}, num(v.orders))))),
    h("section", {class: "panel wide"}, h("h2", {}, "My boards 我的排名"), standings(v.races)),
    h("section", {class: "panel wide"}, h("h2", {}, "My challenges 我的挑战"), challenges(v.races)),
    h("section", {class: "panel wide"}, h("h2", {}, "My earnings 我的收益"), earnings(v.earnings)),
    v.traffic ? h("section", {class: "panel wide", id: "p-traffic"}, h("h2", {}, "My traffic 我的流量"), traffic(v.traffic)) : null,
    h("section", {class: "panel wide"}, h("h2", {}, "My sessions 我的直播"), sessions(v.sessions))));
  document.body.dataset.seq = v.seq;
}

follow([`participant:${D.role}:${D.id}`], (_, v) => render(v));
