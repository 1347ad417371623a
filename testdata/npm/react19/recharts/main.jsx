// Recharts: d3's ES modules, lodash's CommonJS files by path, redux.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { LineChart, Line } from "recharts";

const data = [{ v: 1 }, { v: 3 }, { v: 2 }];

function App() {
  const [out, setOut] = useState("");
  useEffect(() => {
    const id = setInterval(() => {
      if (document.querySelector(".recharts-line")) {
        clearInterval(id);
        setOut("recharts line");
      }
    }, 10);
    return () => clearInterval(id);
  }, []);
  return <><LineChart width={200} height={100} data={data}><Line dataKey="v" isAnimationActive={false} /></LineChart>{out && <p id="out">{out}</p>}</>;
}

createRoot(document.getElementById("root")).render(<App />);
