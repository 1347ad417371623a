// The page's entry: it takes its own updates and those of hmrDep.js, and
// logs the HMR events as code written for Vite does.
import { foo as depFoo, nestedFoo } from "./hmrDep";
import "./hotData.js";
import "./importing-updated";
import "./invalidation/parent.js";
import "./optional-chaining/parent.js";
import "./file-delete-restore/index.js";
import "./prune/index.js";
import "./assets.js";

export const foo = 1;
text(".app", foo);
text(".dep", depFoo);
text(".nested", nestedFoo);

if (import.meta.hot) {
  import.meta.hot.accept(({ foo }) => log(`(self-accepting 1) foo is now: ${foo}`));
  import.meta.hot.accept(({ foo }) => log(`(self-accepting 2) foo is now: ${foo}`));

  const handleDep = (type, newFoo, newNestedFoo) => {
    log(`(${type}) foo is now: ${newFoo}`);
    log(`(${type}) nested foo is now: ${newNestedFoo}`);
    text(".dep", newFoo);
    text(".nested", newNestedFoo);
  };
  import.meta.hot.accept("./hmrDep", ({ foo, nestedFoo }) => handleDep("single dep", foo, nestedFoo));
  import.meta.hot.accept(["./hmrDep"], ([{ foo, nestedFoo }]) => handleDep("multi deps", foo, nestedFoo));

  import.meta.hot.dispose(() => log(`foo was: ${foo}`));

  import.meta.hot.on("vite:afterUpdate", (event) => log(`>>> vite:afterUpdate -- ${event.type}`));
  import.meta.hot.on("vite:beforeUpdate", (event) => {
    log(`>>> vite:beforeUpdate -- ${event.type}`);
    const css = event.updates.find((u) => u.type === "css-update" && u.path.match("global.css"));
    if (!css) return;
    text(".css-prev", document.querySelector(".global-css").href);
    // Watch the link being swapped, once the new sheet has loaded.
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        for (const n of m.addedNodes) if (n.tagName === "LINK") text(".link-tag-added", "yes");
        for (const n of m.removedNodes) {
          if (n.tagName !== "LINK") continue;
          text(".link-tag-removed", "yes");
          text(".css-post", document.querySelector(".global-css").href);
        }
      }
    }).observe(document.querySelector("#style-tags-wrapper"), { childList: true });
  });
  import.meta.hot.on("vite:error", (event) => log(`>>> vite:error -- ${event.err.message}`));
  import.meta.hot.on("vite:invalidate", ({ path }) => log(`>>> vite:invalidate -- ${path}`));
}

function text(sel, t) {
  document.querySelector(sel).textContent = t;
}
