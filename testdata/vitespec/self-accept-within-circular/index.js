import { a } from "./a.js";

window.shape = JSON.stringify(a);
