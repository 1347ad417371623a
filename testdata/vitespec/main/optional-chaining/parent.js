import { foo } from "./child.js";

document.querySelector(".optional-chaining").textContent = foo;

import.meta.hot?.accept("./child.js", ({ foo }) => {
  log("(optional-chaining) child update");
  document.querySelector(".optional-chaining").textContent = foo;
});
