// socket.io-client: engine.io-client's "browser" field, debug, a
// CommonJS/ESM mix.
import { io } from "socket.io-client";

const socket = io("http://127.0.0.1:1", { autoConnect: false });
document.getElementById("root").insertAdjacentHTML("beforeend", `<p id="out">socket ${typeof socket.connect} ${socket.connected}</p>`);
