// dayjs: UMD files in CommonJS, and a plugin imported by its file.
import dayjs from "dayjs";
import relativeTime from "dayjs/plugin/relativeTime";

dayjs.extend(relativeTime);
const text = `dayjs ${dayjs("2024-01-02").format("YYYY-MM-DD")} ${dayjs("2024-01-01").from(dayjs("2024-01-03"))}`;
document.getElementById("root").insertAdjacentHTML("beforeend", `<p id="out">${text}</p>`);
