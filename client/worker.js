// devserve shared worker, served at /__devserve/worker.js. The client
// (client.js) of every tab of an origin connects to this one worker, which
// holds the origin's one event stream (/__devserve/events) and forwards its
// events to every tab. Browsers allow about six HTTP/1.1 connections per
// origin: with a stream per tab, the seventh tab would never load.
//
// Messages on each tab's MessagePort:
//   tab -> worker: {hello: 1} joins; {bye: 1} leaves (pagehide), as does
//   closing the port.
//   worker -> tab: {} answers a join at once; {name, id, data} is an event
//   of the stream, data its JSON text; {connected: true|false} says the
//   stream opened or was lost.
//
// A tab that joins while the stream is open gets {connected: true} and a
// sync of the current state, kept from the events, as the server would
// send it on a new stream; one that joins while the stream is lost gets
// {connected: false}. The worker reconnects as a lone client does: backoff
// with jitter, resuming with ?lastEventId=, also when the stream goes
// silent for longer than the server's heartbeat allows (see watch). When the last tab leaves, the
// stream closes, and the next tab starts afresh.

const EVENTS = new URL("events", location.href);
const NAMES = ["sync", "building", "built", "errors", "reload"];
const RETRY_MIN = 100, RETRY_MAX = 3000, JITTER = 0.3;
const SILENCE = 2.5; // heartbeats heard of none: the connection is dead

const tabs = new Set();
let es = null, timer = 0, delay = RETRY_MIN, open = false, lost = false;
let every = 10000, watchdog = 0; // the server's heartbeat (ms); see watch
let lastId = "", state = null; // the sync data as of event lastId

onconnect = (e) => {
  const port = e.ports[0];
  port.onmessage = ({ data }) => (data.bye ? leave(port) : join(port));
  // A tab's bye is lost when its renderer goes away at once; the port's
  // close event (where there is one) still comes.
  port.onclose = () => leave(port);
};

function join(port) {
  tabs.add(port);
  port.postMessage({}); // here
  if (!es && !timer) return connect();
  if (open || lost) port.postMessage({ connected: open });
  if (open && state) port.postMessage({ name: "sync", id: lastId, data: JSON.stringify(state) });
}

function leave(port) {
  if (!tabs.delete(port) || tabs.size) return;
  es?.close();
  clearTimeout(timer);
  clearTimeout(watchdog);
  es = null;
  timer = 0;
  delay = RETRY_MIN;
  open = lost = false;
  lastId = "";
  state = null;
}

function send(m) {
  for (const port of tabs) port.postMessage(m);
}

function connect() {
  timer = 0;
  const url = new URL(EVENTS);
  if (lastId) url.searchParams.set("lastEventId", lastId);
  es = new EventSource(url);
  es.onopen = () => {
    open = true;
    send({ connected: true });
    watch();
  };
  // As in client.js: our own backoff, not EventSource's fixed retry.
  es.onerror = lose;
  es.addEventListener("ping", watch);
  watch();
  for (const name of NAMES) {
    es.addEventListener(name, (e) => {
      if (e.lastEventId) lastId = e.lastEventId;
      delay = RETRY_MIN;
      lost = false;
      send({ name, id: e.lastEventId, data: e.data }); // first: the tabs wait
      track(name, e.data);
      watch(); // after the sync, which says the heartbeat
    });
  }
}

function lose() {
  es.close();
  es = null;
  clearTimeout(watchdog);
  open = false;
  lost = true;
  send({ connected: false });
  timer = setTimeout(connect, delay * (1 + JITTER * (2 * Math.random() - 1)));
  delay = Math.min(delay * 2, RETRY_MAX);
}

// watch restarts the watch on the stream, as client.js does: after
// SILENCE heartbeats with no event or ping, the connection is dead.
function watch() {
  clearTimeout(watchdog);
  watchdog = setTimeout(lose, every * SILENCE);
}

// track keeps state, the data of the sync a new stream would start with,
// up to date with an event.
function track(name, raw) {
  let d;
  try {
    d = JSON.parse(raw) || {};
  } catch {
    return;
  }
  if (d.heartbeatMs > 0) every = d.heartbeatMs;
  if (name === "sync") state = d;
  else if (!state) return;
  else if (name === "building") state = { ...state, status: "building" };
  else if (name === "built") state = { ...state, build: d.build || state.build, status: "ok", failed: false, errors: [], warnings: d.warnings || [] };
  // The build of an errors event is the one served: the last good one, or
  // a good build the project's own errors held back from the pages.
  else if (name === "errors") state = { ...state, build: d.build || state.build, status: "error", failed: !!d.failed, errors: d.errors || [], warnings: d.warnings || [] };
  // Module mode serves the same code as the bundle did (see client.js).
  else if (name === "reload" && d.bundled && d.build) state = { ...state, build: d.build };
}
