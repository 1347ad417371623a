let count = 0;
const button = document.querySelector("button");
button.addEventListener("click", () => {
  count++;
  button.textContent = `Counter ${count}`;
});

// Never called: dep.js never loads.
export function neverCalled() {
  return import("./dep.js");
}
