// devserve browser client, injected into every served HTML page as
// <script type="module" src="/__devserve/client.js?build=ID">. It follows
// /__devserve/events (docs/DESIGN.md, "Wire protocol") to swap CSS, reload
// the page and show build errors, and shows the page's uncaught errors. Its
// globals are window.__devserve (its state) and __devserve_errors, where
// hmr.js reports errors.

const TAG = "[devserve]";
// BASE: the base path ("/app/"), as the client is at BASE/__devserve/.
const BASE = new URL("../", import.meta.url);
const EVENTS = "events";
const RELOADS_KEY = "__devserve_reloads"; // sessionStorage: sync-reload times
const STORM_MAX = 3; // sync-reloads allowed...
const STORM_MS = 10000; // ...within this window
const RETRY_MIN = 100, RETRY_MAX = 3000, JITTER = 0.3;
const SILENCE = 2.5; // heartbeats heard of none: the connection is dead
const RUNTIME_MAX = 10; // runtime errors kept for the overlay: the first ones

const log = (level, msg) => console[level](`${TAG} ${msg}`);

if (!window.__devserve) start();

function start() {
  const params = new URL(import.meta.url).searchParams;
  // ?after=ID: the page stands in for one the server could not make (its
  // backend was down), and reloads on the first event newer than ID.
  const after = Number(params.get("after")) || 0;
  // ?build= with no ID: the server had no good build when it made the
  // page, whose scripts are stand-ins (see hmr/server.go, serveUnbuilt)
  // that set __devserve_unbuilt, as they do in a page served after a good
  // build that an entry of it never had. Such a page reloads on the first
  // good build. (A tag without ?build= at all, written by hand, is not one.)
  const unbuilt = () => (params.has("build") && !params.get("build")) || !!window.__devserve_unbuilt;
  const state = (window.__devserve = {
    build: params.get("build") || "",
    status: "connecting", // "ok" | "building" | "error" | "disconnected"
    errors: [],
    runtimeErrors: [], // [{title, where, code, stack, note}], until the next build
    connected: false,
    lastEventId: "",
    events: 0,
  });
  let es = null, port = null, timer = 0, stormTimer = 0, delay = RETRY_MIN, lost = false, reloading = false;
  // every: the server's heartbeat (ms), from its sync; watchdog: see watch.
  let every = 10000, watchdog = 0, statusBefore = "connecting";
  // stale: a hot update threw, so the page runs partly old code; it
  // reloads on the next build or when the overlay that says so closes.
  // builds counts built events: an error located after one is old news.
  let stale = false, builds = 0, lastError;
  let touched = false; // by a user since it loaded: see handlers.reload
  for (const t of ["keydown", "pointerdown", "wheel", "touchstart"]) addEventListener(t, () => (touched = true), { capture: true, passive: true });

  const handlers = {
    sync(d) {
      if (d.heartbeatMs > 0) every = d.heartbeatMs;
      if (d.build && (state.build || unbuilt()) && d.build !== state.build) {
        // The server rebuilt or restarted while we were away, or has a
        // good build at last.
        const why = `page is build ${state.build || "none"}, server has ${d.build}`, wait = syncReloadWait();
        if (!wait) return reload(why);
        // Never stay on old code: reload as soon as the window allows.
        log("warn", `${why}, but the page reloaded ${STORM_MAX} times in ${STORM_MS / 1000} s; reloading in ${Math.ceil(wait / 1000)} s`);
        clearTimeout(stormTimer);
        stormTimer = setTimeout(() => handlers.sync(d), wait);
      } else if (d.build) {
        state.build = d.build;
      }
      if (d.status === "error") return showErrors(d.errors, d.failed !== false);
      if (state.errors.length) hideOverlay(); // not the runtime errors the page just threw
      state.errors = [];
      state.status = d.status === "building" ? "building" : "ok";
    },
    // No log: an open DevTools takes it as the build runs (BenchmarkHotSave).
    building() {
      state.status = "building";
    },
    built(d) {
      builds++;
      state.errors = [];
      state.runtimeErrors = [];
      hideOverlay();
      logAll("warn", d.warnings);
      const updates = d.updates || [];
      const js = updates.filter((u) => u.type === "js");
      if (d.reload) return reload("the server asked for it");
      if (unbuilt()) return reload("the page was served before its scripts built");
      if (stale) return reload("a hot update failed before this build");
      const why = `changed ${js.map((u) => u.path).join(", ")}`;
      // A page with a CSP fetches the code (see hmr.js, load).
      if (js.length) applyJS(params.has("csp") ? js.map(({ code, ...u }) => u) : js).then((ok) => ok || reload(why), (e) => (e?.update ? runtimeError(e) : reload(why)));
      const css = updates.filter((u) => u.type === "css");
      if (css.length) swapStyles(css, d.build);
      // "asset" updates need nothing: a CSS swap refetches what the CSS uses.
      state.build = d.build || state.build;
      state.status = "ok";
    },
    errors(d) {
      logAll("warn", d.warnings);
      showErrors(d.errors, d.failed !== false);
      window.__devserve_hmr?.emitError(state.errors);
    },
    reload(d) {
      if (d.bundled) return move(d);
      reload(d.reason || "the server asked for it");
    },
  };

  // share follows the stream through the origin's SharedWorker
  // (worker.js), which holds one stream for all tabs: browsers allow about
  // six HTTP/1.1 connections per origin. Without it, the tab holds its own.
  function share() {
    let w;
    try {
      w = new SharedWorker(new URL("worker.js", import.meta.url), { name: "devserve-1" });
    } catch {
      return connect();
    }
    let heard = false;
    const alone = () => heard || reloading || port !== w.port || (close(), connect());
    port = w.port;
    port.onmessage = ({ data: m }) => {
      heard = true;
      if (m.name) onEvent(m.name, m.id, m.data);
      else if (m.connected) onOpen();
      else if (m.connected === false) onLost();
    };
    port.postMessage({ hello: 1 });
    // The worker answers at once. One that fails to load fires error, or,
    // in a browser under load, may just say nothing.
    w.onerror = alone;
    setTimeout(alone, 3000);
  }

  function connect() {
    timer = 0;
    const url = new URL(EVENTS, import.meta.url);
    if (state.lastEventId) url.searchParams.set("lastEventId", state.lastEventId);
    es = new EventSource(url);
    es.onopen = () => {
      onOpen();
      watch();
    };
    // We reconnect ourselves (backoff, jitter, ?lastEventId=) instead of
    // letting EventSource retry at the server's fixed interval.
    es.onerror = lose;
    for (const name in handlers) es.addEventListener(name, (e) => onEvent(name, e.lastEventId, e.data));
    es.addEventListener("ping", watch);
    watch();
  }

  function lose() {
    close();
    onLost();
    if (reloading) return;
    timer = setTimeout(connect, delay * (1 + JITTER * (2 * Math.random() - 1)));
    delay = Math.min(delay * 2, RETRY_MAX);
  }

  // watch restarts the watch on our own stream: a connection can die
  // without a word (a laptop's sleep, a proxy or network that drops it),
  // and EventSource would wait on it for good. The server sends an event
  // or a ping every heartbeat; after SILENCE heartbeats of nothing, we
  // reconnect, and get what we missed or a sync.
  function watch() {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      log("warn", `heard nothing from the server for ${Math.round((every * SILENCE) / 1000)} s`);
      lose();
    }, every * SILENCE);
  }

  // onOpen: connected again. A stream that resumes with nothing missed
  // sends nothing: the state is what it was before the loss.
  function onOpen() {
    state.connected = true;
    if (state.status === "disconnected") state.status = statusBefore;
  }

  function onLost() {
    state.connected = false;
    if (reloading) return;
    if (state.status !== "disconnected") statusBefore = state.status;
    state.status = "disconnected";
    if (!lost) log("warn", "connection lost, reconnecting…");
    lost = true;
  }

  function onEvent(name, id, raw) {
    if (reloading) return;
    state.events++;
    if (id) state.lastEventId = id;
    if (after && +id > after) return reload("the page is out of date");
    // Back off only while connections fail before the first event.
    delay = RETRY_MIN;
    if (lost) log("info", "reconnected");
    lost = false;
    let data;
    try { data = JSON.parse(raw) || {}; } catch { return log("warn", `bad ${name} event: ${raw}`); }
    handlers[name](data);
    if (es) watch(); // after the sync, which says the heartbeat
  }

  function close() {
    es?.close();
    es = null;
    clearTimeout(watchdog);
    port?.postMessage({ bye: 1 });
    port?.close();
    port = null;
    clearTimeout(timer);
    timer = 0;
    state.connected = false;
  }

  // move: module mode serves. An untouched page that runs the bundle
  // (known once the page's scripts ran) moves to it; others take its build.
  function move(d) {
    if (document.readyState !== "complete") return addEventListener("load", () => move(d), { once: true });
    if (window.__devserve_bundled && !touched) return reload(d.reason);
    state.build = d.build || state.build;
  }

  function reload(why) {
    if (reloading) return;
    reloading = true;
    log("info", `reloading: ${why}`);
    window.__devserve_hmr?.beforeFullReload(why);
    close();
    location.reload();
  }

  // syncReloadWait returns 0, and records a reload, unless STORM_MAX
  // sync-reloads happened in the last STORM_MS (say, a server whose pages
  // are of another build than it says); then the ms until one is allowed.
  // The times live in sessionStorage, which survives reloads.
  function syncReloadWait() {
    const now = Date.now();
    let times = [];
    try { times = JSON.parse(sessionStorage.getItem(RELOADS_KEY)).filter((t) => now - t < STORM_MS); } catch {}
    if (times.length >= STORM_MAX) return Math.min(...times) + STORM_MS - now + 10;
    try { sessionStorage.setItem(RELOADS_KEY, JSON.stringify([...times, now])); } catch {}
    return 0;
  }

  // showErrors shows the server's errors: those of a failed build, or,
  // when the build did not fail, the project's own (a file of public/ and
  // one of the source tree with the same URL), which fixing the files
  // clears. An event without "failed" is a failed build's.
  function showErrors(errors, failed) {
    state.status = "error";
    state.errors = errors || [];
    logAll("error", state.errors);
    const n = state.errors.length, s = n === 1 ? "" : "s";
    showOverlay(failed ? `Build failed with ${n} error${s}` : `${n} error${s} in the project's files`, state.errors.map((m) => ({
      where: where(m),
      text: m.text,
      code: m.lineText ? { first: m.line, lines: [m.lineText], line: m.line, column: charColumn(m.lineText, m.column || 0) } : null,
      suggestion: m.suggestion,
    })), `Esc or a click outside closes this. ${failed ? "The next good build" : "Fixing the files"} clears it.`, onClose);
  }

  // runtimeError shows an error the page threw, {error, prefix, at,
  // update}: at is where the error event says it was ({url, line,
  // column}), update the hot update that threw it, as hmr.js reports it.
  // errors.js, loaded now, finds its place in the original source.
  async function runtimeError(e) {
    // hmr.js reports what an entry throws, then the browser does.
    if (reloading || (e.error === lastError && !e.update)) return;
    lastError = e.error;
    setTimeout(() => (lastError = undefined));
    if (e.update) stale = true;
    const seen = builds;
    let shown;
    try {
      shown = await (await import(new URL("errors.js", import.meta.url).href)).explain(e);
    } catch (err) {
      log("warn", `cannot locate the error: ${err}`);
      shown = { title: "Uncaught error (see the console)", where: "" };
    }
    if (seen !== builds || reloading || state.runtimeErrors.length >= RUNTIME_MAX) return;
    state.runtimeErrors.push(shown);
    if (state.status === "error") return; // the build's errors come first
    const errs = state.runtimeErrors, one = errs.length === 1;
    showOverlay(one ? errs[0].title : `${errs.length} errors at run time`, errs.map((e) => ({ ...e, text: one ? "" : e.title })),
      stale ? "The page runs partly old code: closing this reloads it, as does the next build." : "Esc or a click outside closes this. The next build clears it.",
      onClose);
  }

  // onClose runs when the overlay is closed: a page on partly old code
  // must not be left to the user as if it were current.
  function onClose() {
    if (stale) reload("a hot update failed");
  }

  // Uncaught errors and unhandled rejections go to the overlay; not those of
  // scripts of other origins, which browsers hide ("Script error.").
  addEventListener("error", (e) => {
    if (!(e instanceof ErrorEvent) || (e.error == null && e.message === "Script error.")) return;
    try {
      if (e.filename && new URL(e.filename).origin !== location.origin) return;
    } catch {}
    runtimeError({ error: e.error ?? e.message, at: { url: e.filename, line: e.lineno, column: e.colno } });
  });
  addEventListener("unhandledrejection", (e) => runtimeError({ error: e.reason, prefix: "Uncaught (in promise)" }));
  // What hmr.js reported before now, and from now on.
  const early = window.__devserve_errors;
  window.__devserve_errors = { push: runtimeError };
  if (Array.isArray(early)) early.forEach(runtimeError);

  addEventListener("pagehide", close);
  // Back from the back/forward cache: the page lives again, and so does
  // the connection.
  addEventListener("pageshow", (e) => e.persisted && !es && !port && !reloading && share());
  share();
}

// applyJS resolves to false when JS updates need a reload. In a page that
// runs modules, hmr.js (the entry scripts' instance) applies them, queued
// at once. A page that runs bundled JS (an update without url, or a page
// served bundled while module mode compiled, whose bundle set
// __devserve_bundled) needs a reload; one with no JS of the server's, none.
async function applyJS(updates) {
  const hmr = window.__devserve_hmr;
  return hmr ? hmr.applyUpdates(updates) : !window.__devserve_bundled && updates.every((u) => u.url);
}

// swapStyles swaps the stylesheets of the css updates of a build. In a
// page that runs modules, Vite's vite:beforeUpdate fires before, and
// vite:afterUpdate once the new sheets have loaded, as Vite fires them.
function swapStyles(css, build) {
  const hmr = window.__devserve_hmr;
  hmr?.styleUpdate("vite:beforeUpdate", css);
  Promise.all(css.map((u) => swapCSS(u.path, build))).then(() => hmr?.styleUpdate("vite:afterUpdate", css));
}

// pending maps a <link> to the clone that will replace it once loaded.
const pending = new WeakMap();

// swapCSS swaps every stylesheet <link> of this origin with the pathname of
// path (root-relative, under BASE) for a fresh copy, removing the old one
// only when the new one has loaded, so the page never shows unstyled. The
// latest swap of a link wins.
// It resolves once the new links have loaded or failed.
function swapCSS(path, build) {
  const want = new URL(path.replace(/^\/+/, ""), BASE), loads = [];
  for (const link of document.querySelectorAll('link[rel~="stylesheet" i]')) {
    if (!link.href || link.hasAttribute("data-devserve-pending")) continue;
    const url = new URL(link.href);
    if (url.origin !== want.origin || url.pathname !== want.pathname) continue;
    url.searchParams.set("v", build);
    const clone = link.cloneNode();
    clone.setAttribute("data-devserve-pending", "");
    clone.href = url.href;
    pending.get(link)?.remove();
    pending.set(link, clone);
    loads.push(new Promise((done) => {
      clone.onload = clone.onerror = () => {
        done();
        if (pending.get(link) !== clone) return;
        pending.delete(link);
        link.remove();
        clone.removeAttribute("data-devserve-pending");
      };
    }));
    link.after(clone);
  }
  return Promise.all(loads);
}

// where formats the place of a build message as an editor shows it.
function where(m) {
  if (!m.file || !m.line) return m.file || "";
  return `${m.file}:${m.line}:${charColumn(m.lineText || "", m.column || 0)}`;
}

// charColumn turns esbuild's column, a 0-based count of UTF-8 bytes into
// lineText, into the 1-based count of characters (code points) editors show.
function charColumn(lineText, byteColumn) {
  const bytes = new TextEncoder().encode(lineText).subarray(0, byteColumn);
  return [...new TextDecoder().decode(bytes)].length + 1;
}

function logAll(level, messages) {
  for (const m of messages || []) log(level, (where(m) ? where(m) + ": " : "") + m.text);
}

let overlay = null, onKey = null;

function hideOverlay() {
  overlay?.remove();
  overlay = null;
  removeEventListener("keydown", onKey, true);
}

const CSS = `:host{all:initial!important;position:fixed!important;inset:0!important;z-index:2147483647!important;display:block!important}
.backdrop{position:absolute;inset:0;overflow:auto;padding:40px 16px;background:#000d;color:#ddd;font:14px/1.5 ui-monospace,monospace}
.panel{position:relative;max-width:960px;margin:auto;padding:16px 24px;background:#1c1c1c;border-top:4px solid #e55}
h1{margin:0 0 16px;font-size:16px;color:#f66}
button{position:absolute;top:8px;right:12px;font:20px monospace;color:#ddd;background:none;border:0;cursor:pointer}
.where{color:#7bf}
.text{color:#fff;font-weight:bold;white-space:pre-wrap}
.error{margin-bottom:24px}
.note{color:#fc6}
.stack{color:#999;background:none;padding:0 8px}
pre{margin:8px 0;padding:8px;overflow:auto;background:#111}
.caret{color:#f66}
.suggestion{color:#9d7}
.hint{color:#999}`;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

// showOverlay shows errors over the page, in a shadow root so that the
// page's CSS and the overlay's CSS stay apart: a title, then for each error
// {where, text, note, code ({first, lines, line, column}: lines of the
// source from line first, with a caret at column of line), suggestion,
// stack (lines)}, then a hint. onClose runs when the user closes it.
function showOverlay(title, errors, hint, onClose) {
  hideOverlay();
  const host = document.createElement("devserve-overlay");
  const root = host.attachShadow({ mode: "open" });
  const backdrop = el("div", "backdrop");
  const panel = el("div", "panel");
  const button = el("button", "close", "×");
  const close = () => (hideOverlay(), onClose());
  button.onclick = close;
  backdrop.onclick = (e) => e.target === backdrop && close();
  panel.append(button, el("h1", "", title));
  for (const m of errors) {
    const div = el("div", "error");
    div.append(el("div", "where", m.where));
    if (m.text) div.append(el("div", "text", m.text));
    if (m.note) div.append(el("div", "note", m.note));
    if (m.code) div.append(codeFrame(m.code));
    if (m.suggestion) div.append(el("div", "suggestion", `Suggestion: ${m.suggestion}`));
    if (m.stack?.length > 1) div.append(el("pre", "stack", m.stack.join("\n")));
    panel.append(div);
  }
  panel.append(el("div", "hint", hint));
  backdrop.append(panel);
  // A constructed sheet, not a <style>: a page's CSP (style-src) cannot block it.
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];
  root.append(backdrop);
  (document.body || document.documentElement).append(host);
  overlay = host;
  onKey = (e) => e.key === "Escape" && close();
  addEventListener("keydown", onKey, true);
}

// codeFrame shows lines of source from line first (no numbers if first is
// 0), with a caret under column (1-based, in characters) of line.
function codeFrame({ first, lines, line, column }) {
  const w = first ? String(first + lines.length - 1).length : 0;
  const at = first ? line - first : 0;
  const pre = el("pre", "code");
  lines.forEach((text, i) => {
    pre.append(`${i ? "\n" : ""}${first ? String(first + i).padStart(w) : ""} | ${text}`);
    if (i !== at) return;
    // Keep tabs so the caret lines up.
    const pad = [...text].slice(0, column - 1).map((c) => (c === "\t" ? c : " ")).join("");
    pre.append("\n", el("span", "caret", `${" ".repeat(w)} | ${pad}^`));
  });
  return pre;
}
