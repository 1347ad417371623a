// styled-components: tagged templates, process.env.NODE_ENV, tslib.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import styled from "styled-components";

const Box = styled.div`color: rgb(4, 5, 6);`;

function App() {
  const [out, setOut] = useState("");
  useEffect(() => setOut(`styled ${getComputedStyle(document.getElementById("box")).color}`), []);
  return <><Box id="box">box</Box>{out && <p id="out">{out}</p>}</>;
}

createRoot(document.getElementById("root")).render(<App />);
