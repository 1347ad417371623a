// What real packages need of module mode, one case each (see
// TestBrowserInterop); the packages under node_modules are made for it.
import Scene from "./scene.js";
import engine, { Engine } from "engine";
import { makeEngine } from "plugin";
import legacy from "legacy";
import "side-effect";
import { a } from "cycle";
import serverOnly from "server-only-user";
import dual from "dual";
import { join } from "path";

let builtin;
try {
  join("a", "b");
} catch (e) {
  builtin = e.message.includes('"path" is built into Node.js') ? "stub" : e.message;
}

document.getElementById("out").textContent = [
  new Scene().name,
  engine.kind,
  makeEngine() instanceof Engine,
  legacy(),
  globalThis.sideEffect,
  a,
  serverOnly,
  dual.kind,
  builtin,
].join(" ");
