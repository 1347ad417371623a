// TanStack Query (ESM with "exports" conditions) and zustand (its React
// entry requires use-sync-external-store's CommonJS shim in older
// versions, ESM now) in a React app.
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import { create } from "zustand";
import { createRoot } from "react-dom/client";

const useCount = create((set) => ({ n: 3, add: () => set((s) => ({ n: s.n + 1 })) }));
const client = new QueryClient();

function App() {
  const n = useCount((s) => s.n);
  const { data } = useQuery({ queryKey: ["hello"], queryFn: async () => "rq" });
  return <p id="out">{data ? `query ${n} ${data}` : "loading"}</p>;
}

createRoot(document.getElementById("root")).render(<QueryClientProvider client={client}><App /></QueryClientProvider>);
