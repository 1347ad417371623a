// MUI with Emotion: CSS-in-JS, @babel/runtime helpers, react-is and
// hoist-non-react-statics in CommonJS, "use client" files.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { Button, ThemeProvider, createTheme } from "@mui/material";
import styled from "@emotion/styled";

const Box = styled.div`color: rgb(1, 2, 3);`;

function App() {
  const [out, setOut] = useState("");
  useEffect(() => {
    const button = document.querySelector(".MuiButton-root");
    setOut(`mui ${button ? button.textContent : "none"} ${getComputedStyle(document.getElementById("box")).color}`);
  }, []);
  return (
    <ThemeProvider theme={createTheme()}>
      <Button variant="contained">ok</Button>
      <Box id="box">box</Box>
      {out && <p id="out">{out}</p>}
    </ThemeProvider>
  );
}

createRoot(document.getElementById("root")).render(<App />);
