import { rerender } from "./runtime.js";

export const value = "child";

if (import.meta.hot) {
  if (globalThis.__childPruned) {
    log(`file-delete-restore/child.js hot data after prune: ${import.meta.hot.data.persisted}`);
    delete globalThis.__childPruned;
  }
  import.meta.hot.data.persisted = true;
  import.meta.hot.accept((m) => {
    if (m) rerender({ child: m.value });
  });
  import.meta.hot.dispose(() => log("file-delete-restore/child.js is disposed"));
  import.meta.hot.prune(() => {
    log("file-delete-restore/child.js is pruned");
    globalThis.__childPruned = true;
  });
}
