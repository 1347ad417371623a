import { message } from "./message";
import { counter } from "./counter";

document.getElementById("message")!.textContent = message;
counter(document.getElementById("count") as HTMLButtonElement);
