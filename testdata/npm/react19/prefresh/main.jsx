import { render } from "preact";
import App from "./App.jsx";

window.mainRuns = (window.mainRuns || 0) + 1;
render(<App />, document.getElementById("root"));
