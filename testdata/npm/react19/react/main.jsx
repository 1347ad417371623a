import { useState } from "react";
import { createRoot } from "react-dom/client";

function App() {
  const [n, setN] = useState(0);
  return <button id="out" onClick={() => setN(n + 1)}>react {n}</button>;
}

createRoot(document.getElementById("root")).render(<App />);
