// A whole board: the first 100 ranks, fetched again whenever the board's top moves.
"use strict";

async function load() {
  try {
    const b = await getJSON(`/v1/boards/${encodeURIComponent(D.race)}?top=100`);
    let lastBand = null;
    fill("app", h("section", {class: "panel"},
      h("h2", {}, named(b.name_zh, b.name_en), b.day !== null ? ` · ${dayName(b.day)}` : "", b.group ? ` · ${b.group}` : ""),
      h("p", {class: "muted"}, `${b.status} · ${num(b.ranked)} ranked · ${when(b.start)} → ${when(b.end)}`),
      h("table", {id: "board"}, h("tr", {}, ["#", "Entrant", "Score", "Sales", "Band", "Provisional", "To the next band"].map((x) => h("th", {}, x))),
        b.rows.map((r, i) => {
          const line = i > 0 && r.band !== lastBand;
          lastBand = r.band;
          return h("tr", {class: line ? "band-line" : null, "data-id": r.id},
            h("td", {class: "n"}, r.rank), h("td", {}, r.id), h("td", {class: "n"}, score(b.metric, r.score)),
            h("td", {class: "n"}, yuan(r.sales_fen)), h("td", {}, r.band ? "band " + r.band : ""),
            h("td", {class: "n"}, r.reward_fen ? yuan(r.reward_fen) : ""),
            h("td", {class: "n"}, r.next_band ? `band ${r.next_band.band}: ${score(b.metric, r.next_band.points)}` : "—"));
        }))));
  } catch (err) { failed(err); }
}

load();
follow([`board:${D.race}`], () => load());
