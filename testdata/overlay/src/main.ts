// The entry of the overlay tests: counts its runs in sessionStorage, so
// tests can tell reloads, and renders view.ts again when it changes.
import { view } from "./view";
import "./widget.css";

const out = document.getElementById("out")!;
sessionStorage.setItem("runs", String(Number(sessionStorage.getItem("runs") || 0) + 1));
out.textContent = view("ready");

// Tests call it to throw an error.
(window as any).fail = (n: number) => {
  throw new TypeError(`failed ${n}`);
};

if (import.meta.hot) {
  import.meta.hot.accept("./view", (mod) => {
    out.textContent = mod.view("updated");
  });
}
