// A single-page app: it shows the route it was opened at, which the server
// answers with this page whatever the path (SPA fallback), and a text file
// of public/. It counts its runs in sessionStorage so tests can tell how
// many times a change reloaded it.
import { show } from "./show";

sessionStorage.setItem("runs", String(Number(sessionStorage.getItem("runs") || 0) + 1));
show("app");
