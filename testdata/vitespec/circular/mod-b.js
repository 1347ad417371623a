import { value as next } from "./mod-c.js";

export const value = `mod-b -> ${next}`;
