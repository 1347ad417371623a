import { LitElement, html } from "lit";

class Hello extends LitElement {
  static properties = { name: {} };
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
  document.getElementById("root").insertAdjacentHTML("beforeend", `<p id="out">${el.shadowRoot.textContent.trim()}</p>`);
});
