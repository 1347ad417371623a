import { c } from "./c.js";

const b = { c };

export { b };
