// The entry: runs once per page load (counted in sessionStorage, so tests
// can tell reloads), and takes updates of label.js itself.
import "./counter.js";
import { label } from "./label.js";
import { plain } from "./plain.js";
import "./style.css";

sessionStorage.setItem("runs", String(Number(sessionStorage.getItem("runs") || 0) + 1));
document.getElementById("plain").textContent = plain;

function showLabel(text) {
  document.getElementById("label").textContent = text;
}
showLabel(label);

if (import.meta.hot) {
  import.meta.hot.accept("./label.js", (mod) => showLabel(mod.label));
}
