// Counts the page's runs in sessionStorage so tests can tell how many
// times a change reloaded it.
import { value } from "./value.js";

sessionStorage.setItem("runs", String(Number(sessionStorage.getItem("runs") || 0) + 1));
document.getElementById("out").textContent = value;
