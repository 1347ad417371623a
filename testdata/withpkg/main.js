import { shout } from "tiny-pkg";

document.body.textContent = shout("hello from tiny-pkg");
