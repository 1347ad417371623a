import { value } from "./child.js";

if (import.meta.hot) import.meta.hot.accept();

log("(invalidation) parent is executing");
document.querySelector(".invalidation-parent").textContent = value;
