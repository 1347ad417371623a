import { format, addDays } from "date-fns";
import { formatDistanceStrict } from "date-fns/formatDistanceStrict";

const d = addDays(new Date(2024, 0, 1), 1);
const far = formatDistanceStrict(new Date(2024, 0, 1), new Date(2024, 0, 3));
document.getElementById("root").innerHTML = `<p id="out">${format(d, "yyyy-MM-dd")} ${far}</p>`;
