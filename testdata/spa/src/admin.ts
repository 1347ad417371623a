// The app under /admin/: the nearest index.html for its routes.
import { show } from "./show";

show("admin");
