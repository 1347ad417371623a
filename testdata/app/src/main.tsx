import { h, Fragment } from "./h";
import { greet } from "./greet";

const app = document.getElementById("app");
app?.replaceChildren(
  <>
    <h1 class="title">{greet("devserve")}</h1>
    <p>Edit src/main.tsx and save.</p>
  </>,
);
