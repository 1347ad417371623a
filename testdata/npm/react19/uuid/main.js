// uuid: an "exports" map with a browser condition, over crypto.
import { v4, validate, version } from "uuid";

const id = v4();
document.getElementById("root").insertAdjacentHTML("beforeend", `<p id="out">uuid ${validate(id)} ${version(id)} ${id.length}</p>`);
