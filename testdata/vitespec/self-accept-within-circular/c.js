import "./b.js";

export const c = "c";

function render(content) {
  document.querySelector(".self-accept-within-circular").textContent = content;
}
render(c);

import.meta.hot?.accept((next) => render(next.c));
