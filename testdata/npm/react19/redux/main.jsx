import { configureStore, createSlice } from "@reduxjs/toolkit";
import { createApi, fakeBaseQuery } from "@reduxjs/toolkit/query/react";
import { Provider, useSelector } from "react-redux";
import { createRoot } from "react-dom/client";

const counter = createSlice({
  name: "counter",
  initialState: { n: 0 },
  reducers: { add: (s, a) => { s.n += a.payload; } },
});

const api = createApi({
  baseQuery: fakeBaseQuery(),
  endpoints: (b) => ({ hello: b.query({ queryFn: async () => ({ data: "rtk" }) }) }),
});

const store = configureStore({
  reducer: { counter: counter.reducer, [api.reducerPath]: api.reducer },
  middleware: (d) => d().concat(api.middleware),
});
store.dispatch(counter.actions.add(2));

function App() {
  const n = useSelector((s) => s.counter.n);
  const { data } = api.useHelloQuery();
  return <p id="out">{data ? `redux ${n} ${data}` : "loading"}</p>;
}

createRoot(document.getElementById("root")).render(<Provider store={store}><App /></Provider>);
