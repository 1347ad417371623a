// Types of import.meta.hot, the hot module replacement API of devserve,
// and of import.meta.env, as Vite's vite/client declares them. The dev
// server serves this file at /__devserve/hot.d.ts. Copy it into a
// project, or reference it from a file that TypeScript compiles:
//
//   /// <reference path="./devserve-hot.d.ts" />
//
// A project that has Vite's types (vite/client) must not add this file:
// those declare import.meta.hot and import.meta.env too, and TypeScript
// refuses two declarations of them.
//
// import.meta.hot is set in development only; guard its use, so that the
// code that handles updates drops out of production builds:
//
//   if (import.meta.hot) {
//     import.meta.hot.accept();
//   }
//
// Name your own variables for TypeScript as with Vite, in any .d.ts:
//
//   interface ImportMetaEnv {
//     readonly VITE_API_URL: string;
//   }

interface ImportMeta {
  /** The hot module replacement API of this module; undefined outside development. */
  readonly hot?: DevserveHot;
  /** The mode, DEV/PROD, and the VITE_ and DEVSERVE_ variables of the environment and the .env files. */
  readonly env: ImportMetaEnv;
}

/**
 * import.meta.env: constants replaced in the code when it is built. Only
 * variables whose name starts with VITE_ or DEVSERVE_ are there, as
 * strings; a name that is not set is undefined.
 */
interface ImportMetaEnv {
  readonly [key: string]: any;
  /** The base URL the app is served from: "/". */
  readonly BASE_URL: string;
  /** The mode: "development" when serving, "production" in devserve build, or --mode. */
  readonly MODE: string;
  /** Whether the app runs in development: the opposite of PROD. */
  readonly DEV: boolean;
  /** Whether the app is a production build (devserve build), whatever the mode. */
  readonly PROD: boolean;
  /** Whether the code runs on a server: always false. */
  readonly SSR: boolean;
}

/** Events of the dev server that {@link DevserveHot.on} listens to, and their payloads. */
interface DevserveHotEvents {
  /** Updates are about to be applied. */
  "devserve:beforeUpdate": DevserveHotUpdate[];
  /** Updates were applied, and modules that nothing imports any more were pruned. */
  "devserve:afterUpdate": DevserveHotUpdate[];
  /** A build failed. The page keeps running its last good code. */
  "devserve:error": DevserveBuildMessage[];
  /** Vite's names, with Vite's payloads, fired after devserve's: code written for Vite's HMR API works unchanged. */
  "vite:beforeUpdate": ViteUpdatePayload;
  "vite:afterUpdate": ViteUpdatePayload;
  "vite:error": { type: "error"; err: { message: string; stack: string; id?: string; loc?: { file: string; line: number; column: number } } };
  "vite:invalidate": { path: string; message?: string };
  "vite:beforeFullReload": { type: "full-reload"; path?: string };
}

/**
 * The payload of vite:beforeUpdate and vite:afterUpdate: for a JS update,
 * path is the module that takes it (it accepts itself or acceptedPath),
 * acceptedPath the module it takes; for a stylesheet swapped in the page,
 * both are the stylesheet's path.
 */
interface ViteUpdatePayload {
  type: "update";
  updates: { type: "js-update" | "css-update"; path: string; acceptedPath: string; timestamp: number }[];
}

/** One module update of a build: a module whose code changed. */
interface DevserveHotUpdate {
  type: "js";
  /** The id of the module: the URL path of its source, e.g. "/src/b.ts". */
  path: string;
  /** The URL its new code is fetched from. */
  url: string;
}

/** An error or warning of a build, as the error overlay shows it. */
interface DevserveBuildMessage {
  text: string;
  file?: string;
  /** 1-based line of the message in file. */
  line?: number;
  /** 0-based column in bytes (UTF-8), as esbuild counts. */
  column?: number;
  lineText?: string;
  suggestion?: string;
}

/**
 * import.meta.hot: how a module takes part in hot module replacement. Its
 * semantics are those of Vite's import.meta.hot.
 *
 * A module is replaced in place only when it accepts itself or a module
 * that imports it accepts it; otherwise a change of it reloads the page.
 */
interface DevserveHot {
  /**
   * Data kept across versions of this module: the same object in every
   * version, so that a new version sees what the dispose handlers of the
   * old one put in it.
   */
  readonly data: any;

  /**
   * Accept updates of this module itself. A new version of the module is
   * imported and runs; if cb is given, the old version's cb gets the
   * namespace of the new version.
   */
  accept(cb?: (mod: any) => void): void;
  /**
   * Accept updates of the module that this module imports as dep (the
   * specifier as written in an import of this module). This module is not
   * run again: cb gets the namespace of the new version of dep.
   */
  accept(dep: string, cb: (mod: any) => void): void;
  /**
   * Accept updates of any of deps. cb gets an array as long as deps with
   * the namespace of the updated module at its index and undefined elsewhere.
   */
  accept(deps: readonly string[], cb: (mods: Array<any | undefined>) => void): void;

  /**
   * Run cb before a new version of this module is imported: release what
   * this version holds (timers, listeners, DOM), and keep state in data.
   */
  dispose(cb: (data: any) => void): void;

  /**
   * Run cb when, after an update, no module imports this one any more; the
   * module is then forgotten. A module that only the page loads (an entry)
   * is never pruned.
   */
  prune(cb: (data: any) => void): void;

  /**
   * Give up on applying an update to this module in place: the update goes
   * to the modules that import it, as if this module did not accept it;
   * where none accepts it, the page reloads. message is logged.
   */
  invalidate(message?: string): void;

  /** Listen to an event of the dev server. */
  on<K extends keyof DevserveHotEvents>(event: K, cb: (payload: DevserveHotEvents[K]) => void): void;
  /** Stop listening: remove cb that {@link on} added for event. */
  off<K extends keyof DevserveHotEvents>(event: K, cb: (payload: DevserveHotEvents[K]) => void): void;
}
