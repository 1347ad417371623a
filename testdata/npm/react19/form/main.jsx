// react-hook-form and zod.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { useForm } from "react-hook-form";
import { z } from "zod";

const schema = z.object({ name: z.string().min(1) });

function App() {
  const { register, getValues } = useForm({ defaultValues: { name: "ada" } });
  const [out, setOut] = useState("");
  useEffect(() => setOut(`form ${getValues("name")} ${schema.safeParse(getValues()).success}`), []);
  return <><input {...register("name")} />{out && <p id="out">{out}</p>}</>;
}

createRoot(document.getElementById("root")).render(<App />);
