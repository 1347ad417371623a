// classnames (UMD), Chart.js (ESM, its registerables) and Leaflet (UMD,
// its stylesheet with images, imported from JS).
import cn from "classnames";
import { Chart, registerables } from "chart.js";
import L from "leaflet";
import "leaflet/dist/leaflet.css";

Chart.register(...registerables);
const canvas = document.createElement("canvas");
document.getElementById("root").append(canvas);
const chart = new Chart(canvas, { type: "bar", data: { labels: ["a"], datasets: [{ data: [1] }] }, options: { animation: false } });
const div = document.createElement("div");
div.style.height = "100px";
document.getElementById("root").append(div);
L.map(div).setView([0, 0], 1);
const text = `misc ${cn("a", { b: true, c: false })} ${chart.data.datasets.length} ${div.classList.contains("leaflet-container")} ${getComputedStyle(div).overflow}`;
document.getElementById("root").insertAdjacentHTML("beforeend", `<p id="out">${text}</p>`);
