// A refused page: what was refused and how to sign in.
"use strict";
fill("app", h("section", {class: "panel"},
  h("h2", {}, document.title.replace(" · dacu", "")),
  h("p", {class: "error", id: "error"}, D.error),
  h("p", {class: "muted"}, "Sign in with a link of the form /login?token=TOKEN; a token comes from `dacu token create` or an operator.")));
document.getElementById("live").textContent = "";
