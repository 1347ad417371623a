package hmr

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// apiPage is a page of the project that uses the API behind /api/: a JSON
// fetch, an EventSource and a WebSocket, whose results it keeps in
// window.results.
const apiPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>api</title></head>
<body><p id="out">api</p>
<script>
window.results = {};
fetch("/api/data").then((r) => r.json()).then((j) => (results.json = j.message), (e) => (results.json = "error " + e));
const es = new EventSource("/api/events");
es.onmessage = (e) => { results.sse = e.data; es.close(); };
es.onerror = () => (results.sse ||= "error");
const ws = new WebSocket("ws://" + location.host + "/api/ws");
ws.onopen = () => ws.send("ping");
ws.onmessage = (e) => { results.ws = e.data; ws.close(); };
ws.onerror = () => (results.ws ||= "error");
</script>
</body></html>
`

// newAPIHandler is the API of the browser test, at /data, /events and
// /ws: JSON, an event stream that sends one event and then holds the
// stream open until the browser closes it (so the event arrives only if
// it is passed on unbuffered), and a WebSocket that echoes.
func newAPIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /data", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"message":"hello from the API"}`)
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: tick 1\n\n")
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("GET /ws", wsEcho)
	return mux
}

// wsEcho answers a WebSocket handshake (RFC 6455) and sends back each text
// message with "echo: " before it, until the browser closes.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || key == "" {
		http.Error(w, "want a WebSocket handshake", http.StatusBadRequest)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
	if rw.Flush() != nil {
		return
	}
	for {
		op, msg, err := readWSFrame(rw.Reader)
		if err != nil || op == 0x8 { // close
			return
		}
		if op != 0x1 { // text
			continue
		}
		reply := append([]byte("echo: "), msg...)
		if len(reply) > 125 {
			return // more than the test sends
		}
		rw.Write(append([]byte{0x80 | 0x1, byte(len(reply))}, reply...))
		if rw.Flush() != nil {
			return
		}
	}
}

// readWSFrame reads one frame from a browser (masked, as RFC 6455 wants)
// and returns its opcode and unmasked payload.
func readWSFrame(br *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return 0, nil, io.ErrShortBuffer
	}
	var mask [4]byte
	if h[1]&0x80 != 0 {
		if _, err := io.ReadFull(br, mask[:]); err != nil {
			return 0, nil, err
		}
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		return 0, nil, err
	}
	for i := range payload {
		payload[i] ^= mask[i%4]
	}
	return h[0] & 0x0f, payload, nil
}

// serveOn serves h on addr until the test ends.
func serveOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// TestBrowserProxyRoutes opens a page of the project that uses an API
// behind the route /api/ (which replaces its prefix): the JSON fetch, the
// first event of a stream the API holds open and the WebSocket's echo all
// come through. A navigation to a route whose backend is down gets the
// page that says so, which reloads when the backend comes up.
func TestBrowserProxyRoutes(t *testing.T) {
	api := serveOn(t, "127.0.0.1:0", newAPIHandler())
	downAddr := freeAddr(t)
	dir := copyFixture(t, "live")
	writeTestFile(t, dir, "api.html", apiPage)
	ts := startServer(t, dir, "127.0.0.1:0", Options{ProxyRoutes: []ProxyRoute{
		{Prefix: "/api/", Target: mustURL(t, api.URL+"/")},
		{Prefix: "/down", Target: mustURL(t, "http://"+downAddr)},
	}})
	browser := browsertest.New(t)

	tab := browsertest.NewTab(t, browser)
	openPage(t, tab, ts.URL+"/api.html")
	waitJS(t, tab, `results.json && results.sse && results.ws`)
	if got := evalJS[string](t, tab, `JSON.stringify([results.json, results.sse, results.ws])`); got != `["hello from the API","tick 1","echo: ping"]` {
		t.Errorf("JSON, event and echo: %s", got)
	}

	down := browsertest.NewTab(t, browser)
	if err := chromedp.Do(down, chromedp.Navigate(ts.URL+"/down/page")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, down, `document.title.startsWith("Backend not answering") && window.__devserve.connected`)
	serveOn(t, downAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>up at "+r.URL.Path+"</title>")
	}))
	waitJS(t, down, `document.title === "up at /down/page"`)
	// The API's page is the API's, with no client in it.
	if evalJS[bool](t, down, `"__devserve" in window`) {
		t.Error("the client is in the page of a route's backend")
	}
}
