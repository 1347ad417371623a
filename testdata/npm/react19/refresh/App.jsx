import { useState } from "react";
import { ThemeProvider, Themed } from "./theme.jsx";
import { Klass } from "./Klass.jsx";
import { Badge, badgeText } from "./badge.jsx";

export default function App() {
  const [count, setCount] = useState(0);
  return (
    <ThemeProvider>
      <p id="label">label v0</p>
      <button id="inc" onClick={() => setCount(count + 1)}>count {count}</button>
      <input id="text" />
      <Themed />
      <Klass />
      <Badge />
      <p id="badge-text">{badgeText}</p>
    </ThemeProvider>
  );
}
