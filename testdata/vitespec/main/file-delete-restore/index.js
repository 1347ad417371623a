import { childValue, parentValue } from "./parent.js";
import { render } from "./runtime.js";

render({ parent: parentValue, child: childValue });
