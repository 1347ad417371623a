import { rerender } from "./runtime.js";

export const parentValue = "parent";
export { value as childValue } from "./child.js";

if (import.meta.hot) {
  import.meta.hot.accept((m) => {
    if (m) rerender({ parent: m.parentValue, child: m.childValue });
  });
}
