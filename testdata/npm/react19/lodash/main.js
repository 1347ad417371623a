import { chunk, debounce } from "lodash-es";
import sortBy from "lodash-es/sortBy.js";

const sorted = sortBy([{ n: 3 }, { n: 1 }], "n").map((x) => x.n).join("");
document.getElementById("root").innerHTML = `<p id="out">lodash ${chunk([1, 2, 3], 2).length} ${typeof debounce} ${sorted}</p>`;
