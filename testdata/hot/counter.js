// A module that accepts its own updates and keeps its state across them:
// edit the text below and the count stays.
import { shout } from "tiny-pkg";

const text = "count";
const button = document.getElementById("inc");
const out = document.getElementById("count");
const log = (globalThis.hotLog ??= []);
let count = import.meta.hot?.data.count ?? 0;

function render() {
  out.textContent = `${shout(text)} ${count}`;
}
function click() {
  count++;
  render();
}
button.addEventListener("click", click);
render();
log.push(`run ${text}`);

if (import.meta.hot) {
  import.meta.hot.dispose((data) => {
    data.count = count;
    button.removeEventListener("click", click);
    log.push(`dispose ${text}`);
  });
  import.meta.hot.accept();
}
