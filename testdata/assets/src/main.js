// Asset imports as Vite has them (see TestBrowserAssets).
import logo from "./logo.svg";
import logoURL from "./logo.svg?url";
import logoRaw from "./logo.svg?raw";
import logoInline from "./logo.svg?inline";
import moon from "/moon.txt?raw";
import source from "./other.js?raw";
import data, { n } from "./data.json";
import styles from "./card.module.css";
import { nested, icon } from "./parts/where.js";

const out = document.getElementById("out");
out.className = styles.title;
out.textContent = JSON.stringify({
  logo: logo.startsWith("/src/logo") && logo.endsWith(".svg"),
  logoURL: logoURL.startsWith("/src/logo"),
  logoRaw,
  logoInline: logoInline.startsWith("data:image/svg+xml,"),
  moon,
  source,
  n,
  data: data.n,
  url: new URL("./logo.svg", import.meta.url).pathname,
  title: typeof styles.title,
  nested,
  icon: icon("star"),
});
Object.assign(window, { logo, logoURL });
if (import.meta.hot) import.meta.hot.accept();
