import "./dep1.js";

const el = document.querySelector(".prune");
if (!el.textContent) el.textContent = "prune-init";

if (import.meta.hot) import.meta.hot.accept();
