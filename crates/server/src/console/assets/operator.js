// The operator console: the whole festival on one screen, from the `console` topic.
"use strict";

const LAYOUT = [
  ["clock", "Phase clock 节奏", true], ["headline", "Headline 大盘", true],
  ["hours", "GMV by hour 每小时 GMV (last 72 h)"], ["days", "GMV by day 每日 GMV"],
  ["split", "Channels and tiers 渠道 · 品牌 · 主播层级"], ["alerts", "Alerts 预警"],
  ["boards", "Contests and challenges 排位赛 · 挑战", true],
  ["budgets", "Incentive budgets 激励预算", true],
  ["traffic", "Guaranteed traffic 确定性流量", true], ["benefits", "Consumer benefits 消费者权益"],
  ["sessions", "Live now 正在直播"], ["settlement", "Settlement and report 结算 · 报告"],
];

function skeleton() {
  fill("app", h("div", {class: "grid"}, LAYOUT.map(([id, title, wide]) =>
    h("section", {class: "panel" + (wide ? " wide" : ""), id: "p-" + id}, h("h2", {}, title), h("div", {id})))));
}

// What the page remembers between updates: the last orders count (orders per second),
// and each board's ranks (movement since the last update).
const prev = {orders: null, at: 0, ops: 0, ranks: {}, clock: null, shown: 0};

function figure(label, value, attrs, big) {
  return h("div", {class: "figure" + (big ? " big" : "")}, h("div", {class: "label"}, label),
    h("div", Object.assign({class: "value"}, attrs || {}), value));
}

function clockPanel(c, fest) {
  const layers = {};
  for (const p of c.phases) (layers[p.layer] = layers[p.layer] || []).push(p);
  const rows = Object.entries(layers).map(([layer, ps]) => {
    const cur = ps.find((p) => p.current);
    return h("div", {}, h("span", {class: "muted"}, layer + ": "),
      cur ? h("span", {class: "phase", "data-layer": layer}, named(cur.name_zh, cur.name_en))
          : h("span", {class: "phase idle"}, ms(c.now) < ms(fest.start) ? "before the festival 未开始"
            : ms(c.now) >= ms(fest.end) ? "the festival is over 已结束" : "between phases 阶段间"));
  });
  const open = c.registration.filter((r) => r.open);
  return [
    h("div", {class: "figures"},
      figure("Festival time 活动时间", when(c.now), {id: "now", "data-ms": ms(c.now)}),
      figure("Next boundary 下一节点", c.next_boundary ? when(c.next_boundary) : "—"),
      figure("Countdown 倒计时", c.next_boundary ? span(ms(c.next_boundary) - ms(c.now)) : "—",
        {id: "countdown", "data-to": c.next_boundary ? ms(c.next_boundary) : ""}),
      figure("Clock speed 时钟倍速", c.speed === 1 ? "real time" : num(Math.round(c.speed)) + "×")),
    h("div", {}, rows),
    h("div", {class: "muted"}, "Registration 报名: ",
      open.length ? `open for ${open.map((r) => r.program).join(", ")}` : "closed for every program",
      ` (window ${when(c.registration[0] ? c.registration[0].opens : null)} → ${when(c.registration[0] ? c.registration[0].closes : null)})`),
  ];
}

function headline(v) {
  const hd = v.headline;
  const now = performance.now();
  if (prev.orders !== null && hd.orders !== prev.orders && now > prev.at) {
    prev.ops = (hd.orders - prev.orders) / ((now - prev.at) / 1000);
  }
  if (prev.orders === null || hd.orders !== prev.orders) { prev.orders = hd.orders; prev.at = now; }
  const yoy = (v.year_on_year || []).find((m) => m.figure === "gmv_fen");
  return h("div", {class: "figures"},
    figure("GMV (paid − refunded) 成交额", yuan(hd.gmv_fen), {id: "gmv", "data-fen": hd.gmv_fen}, true),
    figure("Gross 支付额", yuan(hd.gross_fen), {id: "gross", "data-fen": hd.gross_fen}),
    figure("Refunded 退款", yuan(hd.refunded_fen), {id: "refunded"}),
    figure("Orders 订单", num(hd.orders), {id: "orders", "data-n": hd.orders}),
    figure("Buyers 买家", num(hd.buyers), {id: "buyers", "data-n": hd.buyers}),
    figure("Orders/s now 每秒订单", num(Math.round(prev.ops)), {id: "ops"}),
    figure("GMV vs the previous festival 同比", yoy ? times(yoy.multiple_x100) : (v.baseline ? "—" : "no baseline"), {id: "yoy"}));
}

function hoursChart(hours) {
  if (!hours.length) return h("p", {class: "muted"}, "No sales yet.");
  const bars = hours.map(([hr, paid, refunded, orders]) => ({
    label: when(hr * 3600000).slice(5, 13) + "h", value: paid - refunded,
    title: `${when(hr * 3600000)}: ${yuan(paid - refunded)} (${num(orders)} orders)`}));
  return barChart(bars, "#e69f00");
}

function daysChart(days) {
  if (!days.length) return h("p", {class: "muted"}, "No sales yet.");
  return barChart(days.map(([d, g]) => ({label: dayName(d).slice(5), value: g})), "#56b4e9");
}

const CHANNELS = {live: "直播间 Live room", shelf: "货架 Shelf"};
function splits(v) {
  const parts = (o, names) => Object.entries(o || {}).map(([k, x]) => ({label: (names && names[k]) || k, value: x}));
  return [
    h("h3", {}, "Channel 渠道"), split(parts(v.channels, CHANNELS)),
    h("h3", {}, "Brand tier 品牌层级"), split(parts(v.brand_tiers)),
    h("h3", {}, "Anchor tier 主播层级"), split(parts(v.anchor_tiers)),
  ];
}

function movement(race, id, rank) {
  const before = (prev.ranks[race] || {})[id];
  if (before === undefined) return prev.shown ? h("span", {class: "new"}, "new") : "";
  if (before > rank) return h("span", {class: "up"}, "▲" + (before - rank));
  if (before < rank) return h("span", {class: "down"}, "▼" + (rank - before));
  return h("span", {class: "muted"}, "–");
}

function boards(list) {
  if (!list.length) return h("p", {class: "muted"}, "No boards yet.");
  const out = h("div", {class: "boards"}, list.map((b) => {
    let lastBand = null;
    const rows = b.rows.map((r, i) => {
      const line = i > 0 && r.band !== lastBand;
      lastBand = r.band;
      return h("tr", {class: line ? "band-line" : null, "data-id": r.id},
        h("td", {class: "n"}, r.rank), h("td", {class: i === 0 ? "leader" : null}, r.id),
        h("td", {class: "n"}, score(b.metric, r.score)), h("td", {}, r.band ? "band " + r.band : ""),
        h("td", {class: "n"}, r.reward_fen ? yuan(r.reward_fen) : ""), h("td", {}, movement(b.race, r.id, r.rank)));
    });
    const title = named(b.name_zh, b.name_en) + (b.day !== null ? ` · ${dayName(b.day)}` : "") + (b.group ? ` · ${b.group}` : "");
    return h("div", {class: "board", id: "board-" + b.race, "data-race": b.race},
      h("h3", {}, h("a", {href: "/boards/" + encodeURIComponent(b.race)}, title)),
      h("div", {class: "muted"}, `${b.status} · ${num(b.ranked)} ranked · ends ${when(b.end)}`),
      h("table", {}, h("tr", {}, ["#", "Entrant", "Score", "Band", "Provisional", ""].map((x) => h("th", {}, x))), rows));
  }));
  for (const b of list) prev.ranks[b.race] = Object.fromEntries(b.rows.map((r) => [r.id, r.rank]));
  prev.shown++;
  return out;
}

function budgets(list, c, fest) {
  const elapsed = Math.min(1, Math.max(0, (ms(c.now) - ms(fest.start)) / (ms(fest.end) - ms(fest.start))));
  return h("table", {},
    h("tr", {}, ["Track 赛道", "Budget 预算", "Claimed 应得", "Paid 已发", "Remaining 剩余", "Used 使用", "Projected 预计"]
      .map((x, i) => h("th", {class: i ? "n" : null}, x))),
    list.map((b) => {
      const used = b.budget_fen ? b.paid_fen / b.budget_fen : 0;
      const projected = elapsed > 0 ? Math.round(b.paid_fen / elapsed) : null;
      const cls = used >= 1 ? "bar full" : used >= 0.9 ? "bar warn" : "bar";
      return h("tr", {"data-track": b.track},
        h("td", {}, named(b.name_zh, b.name_en)), h("td", {class: "n"}, yuan(b.budget_fen)),
        h("td", {class: "n"}, yuan(b.claimed_fen)), h("td", {class: "n"}, yuan(b.paid_fen)),
        h("td", {class: "n"}, yuan(b.remaining_fen)),
        h("td", {class: "n"}, h("div", {class: cls, title: pct(b.used_bp)}, h("span", {style: `width:${Math.min(100, used * 100).toFixed(1)}%`})), pct(b.used_bp)),
        h("td", {class: "n"}, projected === null ? "—" : yuan(Math.min(projected, b.budget_fen))));
    }));
}

function contractWho(src) {
  if (src.kind === "program") return `${src.role} ${src.participant} · ${src.program}`;
  if (src.kind === "settlement") return `${src.role} ${src.participant} · settlement ${src.settlement}`;
  if (src.kind === "make_good") return `make-good of ${src.of}`;
  return "festival 活动";
}

function traffic(t) {
  const th = (cols, from) => h("tr", {}, cols.map((x, i) => h("th", {class: i >= from ? "n" : null}, x)));
  const tracks = h("table", {},
    th(["Track 赛道", "Contracts 合约", "Promised 承诺", "Delivered 已交付", "Of promised 完成", "Target now 当前目标", "Ahead / behind 超前 / 落后", "Owed 欠量"], 1),
    t.tracks.map((x) => h("tr", {"data-track": x.track},
      h("td", {}, named(x.name_zh, x.name_en)), h("td", {class: "n"}, num(x.contracts)),
      h("td", {class: "n"}, num(x.promised)), h("td", {class: "n delivered", "data-n": x.delivered}, num(x.delivered)),
      h("td", {class: "n"}, h("div", {class: "bar", title: pct(x.delivered_bp)}, h("span", {style: `width:${Math.min(100, x.delivered_bp / 100).toFixed(1)}%`})), pct(x.delivered_bp)),
      h("td", {class: "n"}, num(x.target_now)), h("td", {class: "n ahead", "data-n": x.ahead}, ahead(x.ahead)),
      h("td", {class: "n"}, num(x.owed)))));
  const curves = h("div", {class: "boards curves"}, t.tracks.filter((x) => x.curve.length).map((x) =>
    h("div", {class: "curve", "data-track": x.track},
      h("h3", {}, named(x.name_zh, x.name_en)),
      h("div", {class: "muted"}, `${num(x.delivered)} of ${num(x.promised)} · target now ${num(x.target_now)}`
        + (x.curve_days > x.curve.length ? ` · every ${Math.ceil(x.curve_days / x.curve.length)} days` : "")),
      deliveryChart(x.curve, t.today))));
  const b = t.behind;
  const behind = b.rows.length ? h("table", {id: "traffic-behind"},
    th(["Contract 合约", "For 归属", "Delivered 已交付", "Target now 当前目标", "Behind 落后", "Promised 承诺", "Window ends 结束"], 2),
    b.rows.map((r) => h("tr", {"data-contract": r.contract},
      h("td", {}, r.contract), h("td", {}, contractWho(r.source)),
      h("td", {class: "n"}, num(r.delivered)), h("td", {class: "n"}, num(r.target_now)),
      h("td", {class: "n behind", "data-n": r.behind}, ahead(-r.behind)), h("td", {class: "n"}, num(r.promised)),
      h("td", {class: "n"}, when(r.end)))))
    : h("p", {class: "muted", id: "traffic-behind"}, "No contract is behind its curve.");
  const e = t.ended_short;
  const short = e.rows.length ? h("table", {id: "traffic-short"},
    th(["Contract 合约", "For 归属", "Window ended 窗口结束", "Promised 承诺", "Delivered 已交付", "Short 缺口", "Make-good 补量"], 3),
    e.rows.map((r) => h("tr", {"data-contract": r.contract},
      h("td", {}, r.contract), h("td", {}, contractWho(r.source)), h("td", {class: "n"}, when(r.end)),
      h("td", {class: "n"}, num(r.promised)), h("td", {class: "n"}, num(r.delivered)),
      h("td", {class: "n shortfall", "data-n": r.shortfall}, num(r.shortfall)),
      h("td", {class: "n"}, r.make_good ? `${r.make_good}: ${num(r.make_good_delivered)} of ${num(r.shortfall)} by ${when(r.make_good_end)}`
        : h("span", {class: "down"}, "owed 欠量")))))
    : h("p", {class: "muted", id: "traffic-short"}, "No contract has ended short.");
  return [
    h("div", {class: "figures"},
      figure("Promised 承诺曝光", num(t.promised), {id: "traffic-promised", "data-n": t.promised}),
      figure("Delivered 已交付", `${num(t.delivered)} · ${pct(t.delivered_bp)}`, {id: "traffic-delivered", "data-n": t.delivered}),
      figure("Target now 当前目标", num(t.target_now), {id: "traffic-target", "data-n": t.target_now}),
      figure("Ahead / behind 超前 / 落后", ahead(t.ahead), {id: "traffic-ahead", "data-n": t.ahead}),
      figure("Owed 欠量", num(t.owed), {id: "traffic-owed", "data-n": t.owed}),
      figure("Make-goods 补量合约", `${num(t.make_goods)} · ${num(t.made_good)} delivered`, {id: "traffic-make-goods", "data-n": t.make_goods}),
      figure("Unsold 未售", `${num(t.unsold)} of ${num(t.opportunities)}`, {id: "traffic-unsold", "data-n": t.unsold})),
    h("div", {class: "muted"}, `As of ${when(t.now)} (the plan in force; ${num(t.plans)} plans made) · `
      + `${num(t.contracts)} contracts · tolerance ${pct(t.tolerance_bp)}`
      + (t.tracks_total > t.tracks.length ? ` · the first ${t.tracks.length} of ${num(t.tracks_total)} tracks` : "")),
    tracks, curves,
    h("h3", {}, "Most behind their curve 落后最多"),
    h("div", {class: "muted"}, `${num(b.total)} behind their target now, ${num(b.beyond_tolerance)} by more than the tolerance (planned first at the next plan)`),
    behind,
    h("h3", {}, "Ended short 未足量结束"),
    h("div", {class: "muted"}, `${num(e.total)} ended short: ${num(e.made_good)} made good, ${num(e.owed)} owed`),
    short,
  ];
}

function benefits(b, m) {
  const left = m.red_packet_total - m.red_packet_granted - m.red_packet_returned;
  const row = (k, v) => h("tr", {}, h("td", {}, k), h("td", {class: "n"}, v));
  return h("table", {},
    row("Red packets issued 红包发放", `${num(m.red_packets)} · ${yuan(m.red_packet_total)}`),
    row("Red packets grabbed 红包领取", `${num(m.red_packet_grabs)} · ${yuan(m.red_packet_granted)}`),
    row("Red packets left 红包剩余", yuan(left)),
    row("Coupons claimed / redeemed 优惠券领取 / 核销", `${num(m.coupons_claimed)} / ${num(m.coupons_redeemed)}`),
    row("Coupon discounts 优惠券让利", yuan(b.coupons_fen)),
    row("满减 given 满减让利", yuan(b.fullcut_fen)),
    row("Price cuts given 直降让利", yuan(b.price_cut_fen)),
    row("Group deals formed / failed 拼团成团 / 失败", `${num(m.groups_formed)} / ${num(m.groups_failed)}`),
    row("Lotteries drawn 抽奖开奖", `${num(m.lotteries_drawn)} of ${num(m.lotteries)} · ${num(m.lottery_winners)} winners`),
    row("All benefits 权益合计", yuan(b.total_fen)));
}

function sessions(x) {
  return [h("div", {class: "muted"}, `${num(x.live)} sessions live`),
    h("table", {}, h("tr", {}, ["Session 场次", "Anchor 主播", "Viewers now 在线", "GMV", "Conversion 转化"]
      .map((t, i) => h("th", {class: i > 1 ? "n" : null}, t))),
    x.rows.map((r) => h("tr", {},
      h("td", {}, h("a", {href: "/sessions/" + encodeURIComponent(r.session)}, r.session)), h("td", {}, r.anchor),
      h("td", {class: "n"}, num(r.viewers_now)), h("td", {class: "n"}, yuan(r.gmv_fen)), h("td", {class: "n"}, pct(r.conversion_bp)))))];
}

function alerts(a) {
  if (!a.total) return h("p", {class: "muted", id: "no-alerts"}, "Nothing needs attention.");
  return [h("ul", {class: "alerts"}, a.rows.map((r) => h("li", {class: r.level, "data-code": r.code}, r.message))),
    a.total > a.rows.length ? h("div", {class: "muted"}, `… and ${num(a.total - a.rows.length)} more`) : null];
}

function settlement(v) {
  const paid = v.budgets.reduce((s, b) => s + b.paid_fen, 0);
  return [h("p", {}, `${num(v.settlements)} settlement(s) run; ${yuan(paid)} paid across every track.`),
    sourceFigures(v),
    h("p", {}, h("a", {href: "/v1/report?format=html", id: "report-link"}, "The festival report 活动报告"), " · ",
      h("a", {href: "/ledger"}, "The ledger 台账"), " · ", h("a", {href: "/v1/report"}, "report JSON"))];
}

// The source's figures and the announced multiples, each marked reproduced or not.
function sourceFigures(v) {
  const figs = v.figures || [], yoy = (v.year_on_year || []).filter((m) => m.announced_x);
  if (!figs.length && !yoy.length) return null;
  const mark = (r) => r === true ? h("span", {class: "reproduced"}, "reproduced 已复现")
    : r === false ? h("span", {class: "not-reproduced"}, "not reproduced 未复现") : "";
  const done = figs.filter((x) => x.reproduced === true).length + yoy.filter((m) => m.reproduced === true).length;
  return [h("h3", {}, "Figures of the source 大会公布数据"),
    h("div", {class: "muted", id: "figures-count"}, `${done} of ${figs.length + yoy.length} reproduced`),
    h("table", {id: "source-figures"},
      h("tr", {}, ["Figure 口径", "Reported 公布", "Computed 计算", "Bounds 区间", ""].map((t) => h("th", {}, t))),
      figs.map((x) => h("tr", {"data-figure": x.id}, h("td", {}, x.text_en), h("td", {}, x.reported),
        h("td", {}, x.computed || "n/a"), h("td", {}, x.bounds || ""), h("td", {}, mark(x.reproduced)))),
      yoy.map((m) => h("tr", {"data-figure": m.figure}, h("td", {}, m.figure.replace(/_fen$/, "").replace(/_/g, " ") + " year on year"),
        h("td", {}, `${m.announced_x}×`), h("td", {}, times(m.multiple_x100)), h("td", {}, `±${pct(m.tolerance_bp)}`), h("td", {}, mark(m.reproduced)))))];
}

function render(v) {
  if (!document.getElementById("headline")) skeleton();
  prev.clock = {now: ms(v.clock.now), speed: v.clock.speed, at: performance.now()};
  fill("clock", clockPanel(v.clock, v.festival));
  fill("headline", headline(v));
  fill("hours", hoursChart(v.hours));
  fill("days", daysChart(v.days));
  fill("split", splits(v));
  fill("alerts", alerts(v.alerts));
  fill("boards", boards(v.boards));
  fill("budgets", budgets(v.budgets, v.clock, v.festival));
  const tp = document.getElementById("p-traffic");
  if (tp) tp.hidden = !v.traffic;
  if (v.traffic) fill("traffic", traffic(v.traffic));
  fill("benefits", benefits(v.benefits, v.marketing));
  fill("sessions", sessions(v.sessions));
  fill("settlement", settlement(v));
  document.title = `${named(v.festival.name_zh, v.festival.name_en)} · dacu`;
  document.body.dataset.seq = v.seq;
  // For bench/console.py: when the screen first showed, and when each GMV was shown.
  if (window.__rendered_ms === undefined) window.__rendered_ms = performance.now();
  const shown = window.__renders = window.__renders || [];
  shown.push([Date.now(), v.headline.gmv_fen]);
  if (shown.length > 100) shown.shift();
}

// The festival clock runs between updates at the clock's speed.
setInterval(() => {
  const c = prev.clock, now = document.getElementById("now"), cd = document.getElementById("countdown");
  if (!c || !now) return;
  const t = c.now + (performance.now() - c.at) * c.speed;
  now.textContent = when(t);
  if (cd && cd.dataset.to) cd.textContent = span(Number(cd.dataset.to) - t);
}, 500);

follow(["console"], (_, v) => render(v));
