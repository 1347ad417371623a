// devserve's module runtime, served at /__devserve/hmr.js. Entry scripts
// import it, register each module's factory (define) and start their entry
// (start). A module is esbuild's CommonJS-shaped code: factory(require,
// module, exports, meta), meta standing for import.meta. A hot update
// registers new factories (update) and runs again what accepts them. For
// top-level await, see Meta's tla and ready.

const TAG = "[devserve]";
// BASE is where the project is served, the base path ("/app/"). Module
// ids are root-relative; a module's URL is its id under BASE.
const BASE = new URL("../", import.meta.url);
// registry maps a module id (the URL path of its source, "/src/b.ts") to
// its record (see rec).
const registry = new Map();
// listening holds the records of registry whose module called hot.on:
// events go to them alone, not to a walk over every module of a big page.
const listening = new Set();
const entries = new Set();
const pending = new Map(); // id -> {deps, factory} fetched for an update
let queue = Promise.resolve(), broken = false, fetches = 0, evals = true;
// Fast Refresh: React's react-refresh/runtime from the project (or, for
// Preact, Prefresh seen through the same interface), set up by start
// before the entry (and so the framework) runs, when the bundler found it.
// refreshed: a component module ran again in this update.
let refresh = null, refreshed = false;
// chain: the modules whose invalidations led to the update being applied.
let chain = new Set();

// define registers a module of an entry script. A module that two entry
// scripts hold is defined once: the page shares one instance of it.
export function define(id, deps, factory, order) {
  if (!registry.has(id)) registry.set(id, rec(id, deps, factory, order));
}

// rec is a module's record: {id, n (its place in registry), deps (see
// depsOf), factory, order (see ready), module ({exports}) once run, h
// (hooks), data (kept across versions), updated (it ran again in an
// update)}. One shape; most modules get no hooks and no data.
function rec(id, deps, factory, order) {
  return { id, n: registry.size, deps, factory, order, module: null, h: NO_HOOKS, data: null };
}

// update registers the new code of a module, fetched for a hot update.
export function update(id, deps, factory, order) {
  pending.set(id, { deps, factory, order });
}

// start runs an entry module, after setting up Fast Refresh when the
// bundler gives its modules ({react: [runtime]} or {preact: [core,
// utils]}). What it throws goes to client.js too, which may not listen yet
// (an entry before it in the page).
export function start(id, refreshWith) {
  entries.add(id);
  try {
    if (refreshWith && !refresh) refresh = refreshRuntime(refreshWith);
    ready(id)?.catch(fail);
  } catch (error) {
    fail(error);
    throw error;
  }
}

function fail(error) {
  report({ error });
  broken = true; // what did not run cannot take updates
}

// report hands client.js an error for the overlay, {error, update}, or
// keeps it for when the client starts.
function report(e) {
  (globalThis.__devserve_errors ||= []).push(e);
}

// depsOf returns r.deps (specifier -> id), given as JSON text, parsed
// when first needed: loading a page needs none.
function depsOf(r) {
  return typeof r.deps == "string" ? (r.deps = JSON.parse(r.deps)) : r.deps;
}

const newHooks = () => ({ accepts: [], disposers: [], pruners: [], on: new Map() });
// NO_HOOKS are those of every module version that registered none.
const NO_HOOKS = newHooks();

function hooks(r) {
  return r.h === NO_HOOKS ? (r.h = newHooks()) : r.h;
}

// require returns the exports of module id, running it first if it has
// not run (or was disposed of by an update).
function require(id) {
  const r = registry.get(id);
  if (!r) throw new Error(`${TAG} no module ${id} in this page; reload it`);
  if (r.module) return r.module.exports;
  const module = (r.module = { exports: {} });
  r.h = NO_HOOKS;
  try {
    r.factory.call(module.exports, require, module, module.exports, new Meta(r));
  } catch (e) {
    r.module = null; // run it again next time, rather than keep half of it
    throw e;
  }
  return module.exports;
}

// Meta is import.meta of a module version; url, hot and refresh are made
// when first read. (No #fields: served as ES2020, they become WeakMaps.)
class Meta {
  constructor(r) {
    this.r = r;
  }
  get url() {
    const r = this.r;
    return (r.url ??= new URL(r.id.replace(/^\/+/, ""), BASE).href);
  }
  get hot() {
    return (this.hc ??= hotContext(this.r));
  }
  style(href) {
    updateStyle(this.r.id, href);
  }
  import(dep) {
    return Promise.resolve().then(() => ready(dep)).then(() => require(dep));
  }
  get refresh() {
    return (this.rc ??= refreshContext(this.r));
  }
  // A module compiled without bundling requires its imports as written.
  get require() {
    const r = this.r;
    const deps = depsOf(this.r);
    return (spec) => require(deps[spec] ?? spec);
  }
  // tla runs the body of a module with top-level await: it first hands
  // over the module's exports as getters of its variables.
  tla(body) {
    const r = this.r, exports = r.module.exports;
    r.wait = body((getters) => {
      if (!exports.__esModule) Object.defineProperty(exports, "__esModule", { value: true });
      for (const [name, get] of Object.entries(getters)) Object.defineProperty(exports, name, { get, enumerable: true });
    });
  }
}

// ready runs module id (see require), and for a module that waits for
// top-level await, returns a promise of when it has run: its imports run
// first, in the order of its import statements, as the browser runs them,
// and it runs once those with top-level await are done, as does its own
// body. Other modules run at once, and ready returns undefined. An import
// cycle runs as CommonJS does.
function ready(id) {
  const r = registry.get(id);
  if (!r?.order) return void require(id);
  if (r.done || r.visiting) return r.done;
  const waits = [];
  r.visiting = true;
  try {
    for (const d of r.order) {
      const p = ready(d);
      if (p) waits.push(p);
    }
  } finally {
    r.visiting = false;
  }
  // With nothing to wait for, it runs now, before the imports after it.
  const run = () => (require(id), r.wait);
  let p;
  try {
    p = waits.length ? Promise.all(waits).then(run) : Promise.resolve(run());
  } catch (e) {
    p = Promise.reject(e);
  }
  r.done = p.catch((e) => {
    r.module = r.done = null;
    throw e;
  });
  return r.done;
}

// refreshRuntime sets up Fast Refresh and returns it with the interface of
// React's runtime. Prefresh takes the same registrations: @prefresh/core
// hooks into Preact and keeps them (self.__PREFRESH__), and
// @prefresh/utils tells components and applies the pending ones.
function refreshRuntime({ react, preact }) {
  if (react) {
    const runtime = require(react[0]);
    runtime.injectIntoGlobalHook(window);
    return runtime;
  }
  require(preact[0]);
  const utils = require(preact[1]), p = self.__PREFRESH__;
  return {
    register: (type, name) => p.register(type, name),
    createSignatureFunctionForTransform() {
      let status = "begin", first;
      return (type, key, forceReset, getCustomHooks) => {
        first ||= type;
        status = p.sign(type || first, key, forceReset, getCustomHooks, status);
        return type;
      };
    },
    isLikelyComponentType: utils.isComponent,
    performReactRefresh: utils.flush,
  };
}

const NO_REFRESH = Object.freeze({ register() {}, signature: () => (type) => type, done() {} });

// refreshContext is what a module compiled for Fast Refresh calls:
// $RefreshReg$ (register), $RefreshSig$ (signature) and, once it ran,
// done. A module whose exports are all components is a boundary: it
// accepts its own updates, which React renders in place with their state.
// Another gives its updates to its importers, also when a new version of
// a boundary starts exporting something else.
function refreshContext(r) {
  if (!refresh) return NO_REFRESH;
  return {
    register: (type, name) => refresh.register(type, name),
    signature: () => refresh.createSignatureFunctionForTransform(),
    done(module) {
      const exports = module.exports, names = Object.keys(exports);
      const components = names.filter((k) => refresh.isLikelyComponentType(exports[k]));
      for (const k of components) refresh.register(exports[k], `${r.id} export ${k}`);
      const boundary = names.length > 0 && components.length === names.length;
      if (boundary) hotContext(r).accept();
      // A boundary that took its update but is one no more: its importers
      // take it.
      if (r.boundary && !boundary) hotContext(r).invalidate(names.length ? "it exports more than components now" : "it exports nothing now");
      if (r.boundary && boundary) refreshed = true;
      r.boundary = boundary;
    },
  };
}

// hotContext is import.meta.hot of the module version that runs in r.
function hotContext(r) {
  const resolve = (dep) => depsOf(r)[dep] || new URL(dep, new URL(r.id, location.href)).pathname;
  return {
    get data() {
      return (r.data ??= {});
    },
    accept(dep, cb) {
      const self = dep === undefined || typeof dep === "function";
      hooks(r).accepts.push(self ? { deps: [r.id], cb: dep, self, by: r.id } : { deps: [dep].flat().map(resolve), cb, array: Array.isArray(dep), by: r.id });
    },
    dispose(cb) {
      hooks(r).disposers.push(cb);
    },
    prune(cb) {
      hooks(r).pruners.push(cb);
    },
    // invalidate gives the update to the importers, as if the module did
    // not accept it: they run again, with the exports of the version that
    // runs now (it does not run again), or, if none accepts, the page
    // reloads. As with Vite, a module that no update ran again (it
    // invalidates as it first runs) has nothing to give: only the event
    // fires. A module that invalidates again an update that its own
    // invalidation caused (an import cycle) reloads the page instead.
    invalidate(message) {
      if (message) console.info(`${TAG} ${r.id} invalidated: ${message}`);
      emit("vite:invalidate", { path: r.id, message });
      if (!r.updated) return;
      if (chain.has(r.id)) return fullReload(`${r.id} invalidated itself in an import cycle`);
      applyUpdates([{ type: "js", path: r.id, invalidate: true }], new Set(chain).add(r.id)).then((ok) => ok || fullReload(r.id), report);
    },
    on(event, cb) {
      const on = hooks(r).on;
      on.set(event, [...(on.get(event) || []), cb]);
      listening.add(r);
    },
    off(event, cb) {
      const on = hooks(r).on;
      on.set(event, (on.get(event) || []).filter((f) => f !== cb));
    },
  };
}

// call calls each cb with arg and logs what throws.
function call(cbs, arg) {
  for (const cb of cbs || []) {
    try {
      cb(arg);
    } catch (e) {
      console.error(TAG, e);
    }
  }
}

// emit calls the listeners of every running module, in the order of
// registry.
function emit(event, payload) {
  for (const r of [...listening].sort((a, b) => a.n - b.n)) if (r.module) call(r.h.on.get(event), payload);
}

// viteUpdate is the payload of Vite's vite:beforeUpdate and
// vite:afterUpdate, so that code written for Vite's HMR API works
// unchanged: an update of type ("js-update" or "css-update") for each
// {path, acceptedPath}, the module that takes it and the one it takes.
function viteUpdate(list, type) {
  const timestamp = Date.now(), seen = new Map();
  for (const { path, acceptedPath = path } of list) seen.set(path + " " + acceptedPath, { type, path, acceptedPath, timestamp });
  return { type: "update", updates: [...seen.values()] };
}

// styleUpdate fires Vite's event (vite:beforeUpdate or vite:afterUpdate)
// for the stylesheet updates of a build, which client.js swaps.
function styleUpdate(event, css) {
  emit(event, viteUpdate(css.map((u) => ({ path: u.path })), "css-update"));
}

// emitError fires devserve:error, and Vite's vite:error, with the errors
// of a failed build.
export function emitError(errors) {
  emit("devserve:error", errors);
  const e = errors[0] || {};
  emit("vite:error", { type: "error", err: { message: e.text, stack: "", id: e.file, loc: e.file && { file: e.file, line: e.line, column: e.column } } });
}

// beforeFullReload fires Vite's vite:beforeFullReload; client.js calls it
// before it reloads the page.
export function beforeFullReload(path) {
  emit("vite:beforeFullReload", { type: "full-reload", path });
}

// fullReload reloads the page.
function fullReload(path) {
  beforeFullReload(path);
  location.reload();
}

// applyUpdates applies the JS updates of a built event ({path: id, url}),
// one call at a time, and resolves to false when the page must reload
// instead: a module that ran changed and no module accepts it on some way
// up to an entry, its new code could not be fetched, or an entry threw as
// it started. When new code or an accept callback throws, it rejects with
// {error, update: {modules, by}} (the modules being taken and the one
// taking them): the page runs partly old code, and later calls resolve to
// false.
//
// invalidated holds the modules whose invalidation led to these updates.
export function applyUpdates(updates, invalidated = new Set()) {
  const p = queue.then(() => {
    chain = invalidated;
    return !broken && apply(updates);
  });
  queue = p.then((ok) => (broken = !ok), () => (broken = true));
  return p;
}

async function apply(updates) {
  if (updates.some((u) => !u.url && !u.invalidate)) return false; // bundled JS
  const ran = updates.filter((u) => registry.get(u.path)?.module);
  // Where the updates go: boundaries are the accept registrations that
  // take them; outdated are the modules that must run again.
  const boundaries = new Map(), outdated = new Set(); // accept -> ids it takes
  const take = (as, id, path) => {
    for (const a of as) boundaries.set(a, new Set(boundaries.get(a)).add(id));
    if (as.length) path.forEach((x) => outdated.add(x));
    return as.length > 0;
  };
  // The importers of each running module (indexed at the first need: a
  // module that accepts itself needs none), and what a walk from a module
  // found: each module is walked once, however many ways lead to it.
  let importers;
  const importersOf = (id) => {
    if (!importers) {
      importers = new Map();
      for (const m of registry.values()) {
        if (m.module) for (const d of new Set(Object.values(depsOf(m)))) importers.set(d, [...(importers.get(d) || []), m]);
      }
    }
    return importers.get(id) || [];
  };
  // An invalidated module gives its update to its importers, and keeps
  // running.
  const invalid = new Set(updates.filter((u) => u.invalidate).map((u) => u.path));
  const walked = new Map();
  const walk = (id, below) => {
    if (walked.has(id)) {
      if (walked.get(id)) for (const x of below) outdated.add(x); // they lead where id does
      return walked.get(id);
    }
    const r = registry.get(id);
    const path = [...below, id];
    walked.set(id, true); // a cycle back here leads on elsewhere
    let ok = !invalid.has(id) && take(r.h.accepts.filter((a) => a.self), id, path);
    if (!ok) {
      const imps = importersOf(id);
      ok = !entries.has(id) && imps.length > 0 &&
        imps.every((imp) => take(imp.h.accepts.filter((a) => !a.self && a.deps.includes(id)), id, path) || walk(imp.id, path));
    }
    walked.set(id, ok);
    return ok;
  };
  for (const u of ran) if (!walk(u.path, [])) return false;
  for (const id of invalid) outdated.delete(id);
  try {
    // New code of every module of the page (and of new ones, which some
    // new code may import): a module that has not run yet just gets it.
    fetches++;
    await Promise.all(updates.filter((u) => u.url).map(load));
  } catch (e) {
    console.error(`${TAG} could not fetch the update:`, e);
    return false;
  }
  // What the modules that run again imported: if some import goes, the
  // modules no longer imported are pruned.
  const imported = [...outdated].map((id) => [id, Object.values(depsOf(registry.get(id)))]);
  let update = { modules: updates.map((u) => u.path), by: "" };
  const taken = [...boundaries].flatMap(([a, ids]) => [...ids].map((id) => ({ path: a.by, acceptedPath: id })));
  const vite = viteUpdate(taken.length ? taken : updates, "js-update");
  try {
    emit("devserve:beforeUpdate", updates);
    emit("vite:beforeUpdate", vite);
    for (const id of outdated) {
      const r = registry.get(id);
      call(r.h.disposers, (r.data ??= {}));
      r.module = r.done = null;
      r.updated = true;
    }
    for (const [id, next] of pending) {
      const r = registry.get(id);
      if (r) Object.assign(r, next);
      else registry.set(id, rec(id, next.deps, next.factory, next.order));
    }
    pending.clear();
    refreshed = false;
    for (const [a, ids] of boundaries) {
      update = { modules: [...ids], by: a.by };
      const mods = new Map();
      for (const id of ids) {
        const p = ready(id);
        if (p) await p;
        mods.set(id, require(id));
      }
      a.cb?.(a.array ? a.deps.map((d) => mods.get(d)) : [...mods.values()][0]);
    }
    if (refreshed) {
      try {
        refresh.performReactRefresh();
      } catch (error) {
        // A component threw as it rendered (React 18 throws it here):
        // React keeps the root and renders it again at the next refresh,
        // so the page recovers with the next good save: no stale code.
        report({ error });
      }
    }
  } catch (error) {
    console.error(`${TAG} hot update of ${update.modules.join(", ")} failed:`, error);
    throw { error, update };
  }
  if (imported.some(([id, deps]) => deps.some((d) => !Object.values(depsOf(registry.get(id))).includes(d)))) prune();
  emit("devserve:afterUpdate", updates);
  emit("vite:afterUpdate", vite);
  return true;
}

// load runs the new code of update u: the event's (u.code, a function of
// update; named u.url for DevTools and stacks) where the page may eval,
// else imported, each import at its own URL: a version seen before (an
// edit undone) must run its update() again.
function load(u) {
  if (u.code && evals) {
    try {
      return (0, eval)(`${u.code}\n//# sourceURL=${new URL(u.url, location.href)}`)(update);
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      evals = false; // a Content-Security-Policy without 'unsafe-eval'
    }
  }
  return import(`${u.url}&n=${fetches}`);
}

// prune disposes of the running modules that no entry reaches any more,
// and then runs their prune handlers, as Vite does, and stops them. Their
// data goes too: one that comes back starts afresh.
function prune() {
  const reached = new Set();
  const reach = (id) => {
    const r = registry.get(id);
    if (!r || !r.module || reached.has(id)) return;
    reached.add(id);
    Object.values(depsOf(r)).forEach(reach);
  };
  entries.forEach(reach);
  for (const r of registry.values()) {
    if (reached.has(r.id) || !r.module) continue;
    call(r.h.disposers, (r.data ??= {}));
    call(r.h.pruners, r.data);
    r.module = r.done = r.data = null;
  }
}

// updateStyle points the <link> of the CSS module id at href (null removes
// it). A new href gets a new link after the old one, which goes once the
// new one has loaded: the page never shows unstyled. The last call wins.
export function updateStyle(id, href) {
  const links = [...document.querySelectorAll("link[data-devserve-style]")].filter((l) => l.dataset.devserveStyle === id);
  const current = links.find((l) => !l.hasAttribute("data-devserve-pending"));
  for (const l of links) if (l !== current && l.getAttribute("href") !== href) l.remove();
  if (href === null) return current?.remove();
  if (links.some((l) => l.isConnected && l.getAttribute("href") === href)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  link.dataset.devserveStyle = id;
  if (!current) return document.head.append(link);
  link.dataset.devservePending = "";
  link.onload = link.onerror = () => {
    if (!link.isConnected) return;
    current.remove();
    link.removeAttribute("data-devserve-pending");
  };
  current.after(link);
}

// client.js looks for this to tell a page with modules.
globalThis.__devserve_hmr = { emitError, beforeFullReload, styleUpdate, applyUpdates };
