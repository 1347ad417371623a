// SWR: "use client", use-sync-external-store.
import { createRoot } from "react-dom/client";
import useSWR from "swr";

function App() {
  const { data } = useSWR("key", async (k) => `swr ${k}`);
  return <p id="out">{data ?? "loading"}</p>;
}

createRoot(document.getElementById("root")).render(<App />);
