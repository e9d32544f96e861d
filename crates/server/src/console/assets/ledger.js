// The payout ledger: every line, or a participant's own.
"use strict";

async function load() {
  try {
    const l = await getJSON("/v1/ledger");
    fill("app", h("section", {class: "panel"}, h("h2", {}, `Ledger 台账 · ${l.festival}`),
      h("p", {class: "muted"}, `${num(l.settlements.length)} settlement(s), ${num(l.lines.length)} line(s)`),
      h("table", {id: "ledger"}, h("tr", {}, ["Line", "Settlement", "Payout", "Kind", "Board", "Participant", "Item", "Amount", "Rule"].map((x) => h("th", {}, x))),
        l.lines.map((x) => h("tr", {"data-payout": x.payout},
          h("td", {class: "n"}, x.line), h("td", {class: "n"}, x.settlement), h("td", {}, x.payout), h("td", {}, x.kind),
          h("td", {}, x.race, x.day !== null ? ` · ${dayName(x.day)}` : ""), h("td", {}, `${x.role} ${x.participant}`),
          h("td", {}, x.name || x.item), h("td", {class: "n"}, x.unit === "fen" ? yuan(x.amount) : `${num(x.amount)} ${x.unit}`),
          h("td", {class: "wrap"}, x.rule))))));
  } catch (err) { failed(err); }
}

load();
