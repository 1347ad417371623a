import { message } from "./message";
import { counter } from "./counter";

function show(text: string): void {
  document.getElementById("message")!.textContent = text;
}
show(message);
counter(document.getElementById("count") as HTMLButtonElement);

// New versions of message.ts are taken in place: this module does not run
// again, so the click count survives the edit. An edit of this file or of
// counter.ts, which nothing accepts, reloads the page.
import.meta.hot?.accept("./message", (mod) => show(mod.message));
