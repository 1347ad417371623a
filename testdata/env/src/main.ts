// import.meta.env as a Vite project uses it: by name, whole, destructured.
import { show } from "./show";

const { VITE_X, DEVSERVE_Y } = import.meta.env;

show("x", import.meta.env.VITE_X);
show("mode", import.meta.env.MODE);
show("flags", [import.meta.env.DEV, import.meta.env.PROD, import.meta.env.BASE_URL, import.meta.env.SSR].join(" "));
show("missing", typeof import.meta.env.VITE_MISSING);
show("destructured", `${VITE_X} ${DEVSERVE_Y}`);
show("all", JSON.stringify(import.meta.env));
if (import.meta.env.PROD) {
  console.log("production only");
}
