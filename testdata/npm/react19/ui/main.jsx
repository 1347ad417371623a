// react-icons (files of thousands of exports), Radix's Dialog and
// Headless UI ("use client", portals), jotai and react-toastify (its
// stylesheet imported from JS).
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { FaBeer } from "react-icons/fa";
import * as Dialog from "@radix-ui/react-dialog";
import { Switch } from "@headlessui/react";
import { atom, useAtom } from "jotai";
import { ToastContainer, toast } from "react-toastify";
import "react-toastify/dist/ReactToastify.css";

const countAtom = atom(5);

function App() {
  const [n] = useAtom(countAtom);
  const [on, setOn] = useState(true);
  const [out, setOut] = useState("");
  useEffect(() => {
    toast("toasted");
    const id = setInterval(() => {
      const toastEl = document.querySelector(".Toastify__toast");
      if (!toastEl) return;
      clearInterval(id);
      const svg = document.querySelector("#icon svg") ? "svg" : "none";
      const dialog = document.querySelector("[role=dialog]")?.textContent ?? "none";
      const sw = document.querySelector("[role=switch]")?.getAttribute("aria-checked");
      setOut(`ui ${svg} ${dialog} ${sw} ${n} ${toastEl.textContent}`);
    }, 10);
    return () => clearInterval(id);
  }, []);
  return (
    <>
      <span id="icon"><FaBeer /></span>
      <Dialog.Root open>
        <Dialog.Portal>
          <Dialog.Content aria-describedby={undefined}><Dialog.Title>dialog</Dialog.Title></Dialog.Content>
        </Dialog.Portal>
      </Dialog.Root>
      <Switch checked={on} onChange={setOn} />
      <ToastContainer />
      {out && <p id="out">{out}</p>}
    </>
  );
}

createRoot(document.getElementById("root")).render(<App />);
