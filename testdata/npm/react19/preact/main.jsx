/** @jsxImportSource preact */
import { render } from "preact";
import { useState } from "preact/hooks";

function App() {
  const [n] = useState(7);
  return <p id="out">preact {n}</p>;
}

render(<App />, document.getElementById("root"));
