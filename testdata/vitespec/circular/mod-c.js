import { value as back } from "./mod-a.js";

// mod-a has not run its body yet: reading its binding must throw (TDZ).
let seen;
try {
  seen = `${back} (unexpected no error)`;
} catch {
  seen = "mod-a (expected error)";
}

export const value = `mod-c -> ${seen}`;
