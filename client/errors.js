// devserve's error locator, served at /__devserve/errors.js. client.js
// loads it only when the page throws, so that the script every page loads
// stays small. It maps the frames of an error's stack through the source
// maps devserve writes (an entry script's index map, with a section per
// module; a hot update's inline map; a bundle's map), and takes the lines
// around the place from the map's sourcesContent.

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const FRAMES = 10; // frames mapped and shown, at most
const AROUND = 2; // source lines shown before and after the error's
const LONG = 300; // a line longer than this (minified code) is not shown

// maps holds, per script URL, a promise of {text, map, url} for it: its
// source, its source map (if it has one) and the map's URL.
const maps = new Map();

// explain resolves to what the overlay shows of an error that the page
// threw, {error, prefix, at, update} (see locate for at; update is
// {modules, by} for an error of a hot update, from hmr.js): {title, where,
// code, stack, note}.
export async function explain({ error, prefix = "Uncaught", at, update }) {
  const ids = (list) => list.map((id) => id.replace(/^\//, "")).join(", ");
  return {
    title: update ? describe(error) : `${prefix} ${describe(error)}`,
    ...(await locate(error, at)),
    note: !update ? "" : `Thrown by the hot update of ${ids(update.modules)}` +
      (update.by && !update.modules.includes(update.by) ? `, taken by ${ids([update.by])}.` : "."),
  };
}

// describe is how a thrown value reads: "TypeError: x is undefined".
function describe(e) {
  if (e && typeof e === "object" && "message" in e) return e.message ? `${e.name || "Error"}: ${e.message}` : `${e.name || "Error"}`;
  try {
    return String(e).replace(/^Uncaught /, "");
  } catch {
    return "a value that has no text";
  }
}

// locate resolves to where error was thrown: {where, code, stack}, where
// being "src/app.ts:12:5" (the first frame in the project's own code),
// code the lines around it ({first, lines, line, column}, line and column
// 1-based, column in characters), and stack the mapped frames as text.
// at ({url, line, column}, from the error event) stands in for a stack.
// Whatever cannot be mapped is shown as it is; it never rejects.
async function locate(error, at) {
  let frames = parseStack(error?.stack);
  if (!frames.length && at?.url) frames = [{ name: "", url: at.url, line: at.line, column: at.column }];
  const mapped = await Promise.all(frames.slice(0, FRAMES).map(map));
  const shown = mapped.filter((f) => f.source || !f.file.startsWith("__devserve/"));
  const own = (f) => f.source && !/(^|\/)node_modules\/|^__devserve\//.test(f.file);
  const top = mapped.find(own) || mapped.find((f) => f.source) || mapped[0];
  if (!top) return { where: "", code: null, stack: [] };
  return {
    where: place(top),
    code: top.code || null,
    stack: shown.map((f) => (f.name ? `at ${f.name} (${place(f)})` : `at ${place(f)}`)),
  };
}

function place(f) {
  return `${f.file}:${f.line}:${f.column}`;
}

// parseStack reads the frames of a stack as Chromium ("    at f (url:1:2)")
// and Firefox and Safari ("f@url:1:2") write them: {name, url, line,
// column}, line and column 1-based. Frames without a URL (native code,
// eval) are skipped.
function parseStack(stack) {
  const frames = [];
  for (const l of String(stack || "").split("\n")) {
    const m = /^\s*(?:at\s+(?:(.*?)\s+\()?|(.*?)@)(\S+?):(\d+):(\d+)\)?\s*$/.exec(l);
    if (m && /^(https?|blob|file):/.test(m[3])) frames.push({ name: m[1] || m[2] || "", url: m[3], line: +m[4], column: +m[5] });
  }
  return frames;
}

// BASE is the path the project is served under ("/" or "/app/"): errors.js
// is at BASE + "__devserve/errors.js".
const BASE = new URL("../", import.meta.url).pathname;

// show is how a URL is shown: a path of this origin without the base path
// and query ("src/app.ts"), any other URL as it is.
function show(url) {
  try {
    const u = new URL(url, location.href);
    if (u.origin !== location.origin) return url;
    const p = u.pathname.startsWith(BASE) ? u.pathname.slice(BASE.length) : u.pathname.slice(1);
    return decodeURI(p);
  } catch {
    return url;
  }
}

// map maps frame f of a script of this origin through its source map:
// {name, file, line, column, source (the source's URL, if mapped), code}.
async function map(f) {
  const out = { name: f.name, file: show(f.url), line: f.line, column: f.column };
  try {
    if (new URL(f.url).origin !== location.origin) return out;
    if (!maps.has(f.url)) maps.set(f.url, load(f.url).catch(() => ({})));
    const { text, map, url } = await maps.get(f.url);
    const hit = map && find(map, f.line - 1, f.column - 1);
    if (!hit) {
      // No map, or nothing mapped there: the script is the source.
      out.code = code(text, f.line, f.column - 1);
      return out;
    }
    const root = hit.map.sourceRoot ? hit.map.sourceRoot.replace(/\/?$/, "/") : "";
    const source = new URL(root + hit.map.sources[hit.source], url).href;
    const lines = code(hit.map.sourcesContent?.[hit.source], hit.line + 1, hit.column);
    return { ...out, source, file: show(source), line: hit.line + 1, column: lines ? lines.column : hit.column + 1, code: lines };
  } catch {
    return out; // a map that is not one
  }
}

// load fetches a script and, if its last line names one, its source map
// (a URL relative to the script's, or a data: URL): {text, map, url}, url
// being what the map's sources are relative to, the script's URL for a
// map inline.
async function load(url) {
  const text = await (await fetch(url)).text();
  // A page served bundled while module mode compiled (it set
  // __devserve_bundled) keeps running its bundles once module mode
  // serves, and their URLs then answer module mode's entry scripts, which
  // import the runtime: not what threw.
  if (window.__devserve_bundled && text.includes("__devserve/hmr.js")) return {};
  const i = text.lastIndexOf("# sourceMappingURL=");
  const ref = i < 0 ? "" : text.slice(i + 19).trim();
  if (!ref || /\s/.test(ref)) return { text };
  const mapURL = new URL(ref, url);
  let json, base = mapURL.href;
  if (mapURL.protocol === "data:") {
    base = url;
    const comma = ref.indexOf(",");
    const data = ref.slice(comma + 1);
    json = /;base64$/.test(ref.slice(0, comma))
      ? new TextDecoder().decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)))
      : decodeURIComponent(data);
  } else {
    json = await (await fetch(mapURL)).text();
  }
  return { text, map: JSON.parse(json), url: base };
}

// find looks up a generated position (0-based line and column, the column
// in UTF-16 units) in a source map, index maps included: {map (the section
// that has it), source (an index into its sources), line, column}, or
// null where nothing is mapped.
function find(map, line, column) {
  if (map.sections) {
    let s = null;
    for (const x of map.sections) {
      const o = x.offset;
      if (o.line > line || (o.line === line && o.column > column)) break;
      s = x;
    }
    if (!s?.map) return null;
    const o = s.offset;
    return find(s.map, line - o.line, line === o.line ? column - o.column : column);
  }
  // mappings: lines separated by ";", segments by ",", each segment up to
  // five base64 VLQ numbers: generated column (from the line's last
  // segment), then source, original line and column and name, each from
  // the last segment that had one.
  const m = map.mappings || "";
  let l = 0, gen = 0, i = 0, hit = null;
  const v = [0, 0, 0];
  while (i < m.length) {
    const c = m[i];
    if (c === ";" || c === ",") {
      if (c === ";") {
        if (l === line) break;
        l++;
        gen = 0;
      }
      i++;
      continue;
    }
    const seg = [];
    while (i < m.length && m[i] !== "," && m[i] !== ";") {
      let n = 0, shift = 0, d;
      do {
        d = B64.indexOf(m[i++]);
        n += (d & 31) * 2 ** shift;
        shift += 5;
      } while (d & 32);
      seg.push(n % 2 ? -(n - 1) / 2 : n / 2);
    }
    gen += seg[0];
    if (seg.length > 3) for (let k = 0; k < 3; k++) v[k] += seg[k + 1];
    if (l === line) {
      if (gen > column) break;
      hit = seg.length > 3 ? { map, source: v[0], line: v[1], column: v[2] } : null;
    }
  }
  return hit;
}

// code is the lines of text around line (1-based), with column (0-based,
// in UTF-16 units) as a 1-based count of characters: {first, lines, line,
// column}; null without text or for a line too long to show.
function code(text, line, column) {
  const all = typeof text === "string" ? text.split(/\r\n?|\n/) : [];
  if (all.length > 1 && all.at(-1) === "") all.pop(); // the end of the last line
  if (line < 1 || line > all.length || all[line - 1].length > LONG) return null;
  const first = Math.max(1, line - AROUND);
  return {
    first,
    lines: all.slice(first - 1, line + AROUND).map((s) => s.slice(0, LONG)),
    line,
    column: [...all[line - 1].slice(0, Math.max(0, column))].length + 1,
  };
}
