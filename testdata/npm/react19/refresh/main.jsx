import { createRoot } from "react-dom/client";
import App from "./App.jsx";

window.mainRuns = (window.mainRuns || 0) + 1;
createRoot(document.getElementById("root")).render(<App />);
