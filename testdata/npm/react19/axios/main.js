// axios: a "browser" field that swaps its Node adapters for the browser's,
// and a request to the dev server itself.
import axios from "axios";

const { data } = await axios.get("/axios/data.json");
document.getElementById("root").insertAdjacentHTML("beforeend", `<p id="out">axios ${data.n}</p>`);
