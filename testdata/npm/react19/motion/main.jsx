// framer-motion: a large ESM package of "use client" files.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { motion } from "framer-motion";

function App() {
  const [out, setOut] = useState("");
  useEffect(() => setOut(`motion ${document.getElementById("m").tagName.toLowerCase()}`), []);
  return <><motion.div id="m" initial={{ opacity: 0 }} animate={{ opacity: 1 }}>m</motion.div>{out && <p id="out">{out}</p>}</>;
}

createRoot(document.getElementById("root")).render(<App />);
