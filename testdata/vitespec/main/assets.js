// Images whose modules this module accepts: a URL and an inlined data: URL.
import logo from "./logo.svg";
import logoInline from "./logo-inline.svg?inline";

document.querySelector("#logo").src = logo;
document.querySelector("#logo-inline").src = logoInline;

if (import.meta.hot) {
  import.meta.hot.accept("./logo.svg", (m) => {
    log("Logo updated");
    document.querySelector("#logo").src = m.default;
  });
  import.meta.hot.accept("./logo-inline.svg?inline", (m) => {
    log("Logo-inline updated");
    document.querySelector("#logo-inline").src = m.default;
  });
}
