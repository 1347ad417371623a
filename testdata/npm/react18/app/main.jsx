import { useState } from "react";
import { createRoot } from "react-dom/client";
import DatePicker from "react-datepicker";
import "react-datepicker/dist/react-datepicker.css";
import { format } from "date-fns";

// react-datepicker 4 brings its own date-fns 2 (node_modules/react-datepicker/node_modules/date-fns);
// the app imports date-fns 4. Each must get its own copy.
function App() {
  const [day] = useState(new Date(2024, 0, 2));
  return (
    <div>
      <p id="out">react 18 {format(day, "yyyy-MM-dd")}</p>
      <DatePicker selected={day} onChange={() => {}} dateFormat="yyyy/MM/dd" id="picker" />
    </div>
  );
}

createRoot(document.getElementById("root")).render(<App />);
