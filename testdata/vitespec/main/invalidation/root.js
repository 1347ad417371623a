// root is an entry of the page: its invalidation has no importer to go
// to, so the page reloads.
if (import.meta.hot) {
  import.meta.hot.accept(() => import.meta.hot.invalidate());
}

const root = document.querySelector(".invalidation-root");
// Not hot-replaceable: only a reload shows a new text.
if (!root.textContent) root.textContent = "Init";
