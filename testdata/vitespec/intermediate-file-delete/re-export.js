export * from "./display.js";
