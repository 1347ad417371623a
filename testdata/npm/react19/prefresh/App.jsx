import { useState } from "preact/hooks";

export default function App() {
  const [count, setCount] = useState(0);
  return (
    <div>
      <p id="label">label v0</p>
      <button id="inc" onClick={() => setCount(count + 1)}>count {count}</button>
      <input id="text" />
    </div>
  );
}
