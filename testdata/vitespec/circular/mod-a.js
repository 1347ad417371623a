export const value = "mod-a";

import { value as next } from "./mod-b.js";

export const msg = `mod-a -> ${next}`;
