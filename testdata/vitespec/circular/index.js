import { msg } from "./mod-a.js";

document.querySelector(".circular").textContent = msg;

if (import.meta.hot) import.meta.hot.accept();
