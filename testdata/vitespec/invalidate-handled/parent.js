import { value } from "./child.js";

if (import.meta.hot) import.meta.hot.accept(() => {});

log("(invalidation circular deps handled) parent is executing");
setTimeout(() => {
  document.querySelector(".invalidation-circular-deps-handled").textContent = value;
});
