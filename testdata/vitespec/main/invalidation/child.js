// child accepts itself, then gives every update to its importers.
if (import.meta.hot) {
  import.meta.hot.accept();
  import.meta.hot.invalidate();
}

export const value = "child";
