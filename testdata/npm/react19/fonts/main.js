// Stylesheets of packages imported from JS, with fonts and images they
// name by relative URLs (@fontsource/roboto, Bootstrap's), and
// Bootstrap's JS over @popperjs/core.
import "@fontsource/roboto";
import "bootstrap/dist/css/bootstrap.min.css";
import { Modal } from "bootstrap";

const faces = await document.fonts.load("400 16px Roboto");
const box = document.createElement("div");
box.className = "rounded";
document.getElementById("root").append(box);
const text = `fonts ${faces.length > 0} ${getComputedStyle(box).borderTopLeftRadius} ${typeof Modal}`;
document.getElementById("root").insertAdjacentHTML("beforeend", `<p id="out">${text}</p>`);
