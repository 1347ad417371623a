import "./parent.js";
