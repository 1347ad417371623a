import { LitElement, html, unsafeCSS } from "lit";
import styles from "./hello.css?inline";

class Hello extends LitElement {
  static properties = { name: {} };
  static styles = unsafeCSS(styles);
  constructor() {
    super();
    this.name = "lit";
  }
  render() {
    return html`<span>${this.name}</span>`;
  }
}
customElements.define("x-hello", Hello);
const el = document.createElement("x-hello");
document.getElementById("root").append(el);
el.updateComplete.then(() => {
  const span = el.shadowRoot.querySelector("span");
  document.getElementById("root").insertAdjacentHTML("beforeend",
    `<p id="out">${span.textContent.trim()} ${getComputedStyle(span).color}</p>`);
});
