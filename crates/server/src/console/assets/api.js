// The interactive API page: every operation of /openapi.json, and a form to send it.
"use strict";

const METHODS = ["get", "post", "put", "patch", "delete"];

function operations(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) if (item[m]) ops.push({path, method: m, op: item[m]});
  }
  return ops;
}

/** One operation: what it is, its parameters as inputs, a body box for writes, and the
 *  answer, shown as text. */
function operation({path, method, op}, token) {
  const params = (op.parameters || []).filter((p) => p.in === "path" || p.in === "query");
  const inputs = params.map((p) => h("label", {}, `${p.name} (${p.in}${p.required ? ", required" : ""}) `,
    h("input", {"data-in": p.in, "data-name": p.name, size: 24})));
  const body = op.requestBody ? h("textarea", {rows: 4, cols: 80, placeholder: "JSON body"}) : null;
  const out = h("pre", {class: "answer"});
  const send = h("button", {type: "button", class: "send"}, "Send 发送");
  send.addEventListener("click", async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const i of inputs.map((l) => l.querySelector("input"))) {
      if (!i.value) continue;
      if (i.dataset.in === "path") url = url.replace(`{${i.dataset.name}}`, encodeURIComponent(i.value));
      else query.set(i.dataset.name, i.value);
    }
    if (query.toString()) url += "?" + query;
    const headers = {Accept: "application/json"};
    if (token.value) headers.Authorization = "Bearer " + token.value.trim();
    if (body) headers["Content-Type"] = "application/json";
    try {
      const r = await fetch(url, {method: method.toUpperCase(), headers, body: body ? body.value || "{}" : undefined,
        credentials: "omit"});
      const text = await r.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON: as sent */ }
      out.textContent = `${r.status} ${r.statusText}\n${shown.slice(0, 20000)}`;
      out.dataset.status = String(r.status);
    } catch (err) {
      out.textContent = String(err);
    }
  });
  return h("details", {class: "op", "data-op": `${method.toUpperCase()} ${path}`},
    h("summary", {}, h("b", {}, method.toUpperCase()), " ", path, " — ", op.summary || op.operationId || ""),
    op.description ? h("p", {class: "muted"}, op.description) : null,
    inputs, body, h("div", {}, send), out);
}

async function load() {
  try {
    const doc = await getJSON("/openapi.json");
    const token = h("input", {id: "token", size: 80, placeholder: "dacu_… (kept in this page only)"});
    const byTag = {};
    for (const o of operations(doc)) (byTag[(o.op.tags || ["other"])[0]] = byTag[(o.op.tags || ["other"])[0]] || []).push(o);
    fill("app", h("section", {class: "panel"},
      h("h2", {}, `${doc.info.title} ${doc.info.version} — the API 接口`),
      h("p", {class: "muted"}, "Every operation of ", h("a", {href: "/openapi.json"}, "/openapi.json"),
        ". Requests go from this page with the token below in the Authorization header (never the console's cookie); docs/api.md explains each."),
      h("label", {}, "Token ", token),
      Object.entries(byTag).map(([tag, ops]) => [h("h3", {}, tag), ops.map((o) => operation(o, token))])));
  } catch (err) { failed(err); }
}

document.getElementById("live").textContent = "";
load();
