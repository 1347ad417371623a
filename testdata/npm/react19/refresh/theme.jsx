import { useContext } from "react";
import { Theme } from "./context.js";

export function ThemeProvider({ children }) {
  return <Theme.Provider value="dark">{children}</Theme.Provider>;
}

export function Themed() {
  return <p id="theme">theme {useContext(Theme)}</p>;
}
