// Package proxy is devserve's reverse proxy to a backend: the whole app
// behind the dev server (proxy mode), or the API under a path prefix (a
// proxy route). It passes WebSocket upgrades and event streams through
// unbuffered, answers for a backend that is down with a page that reloads
// when it is back, and watches the backend to publish that reload.
//
// What it needs of the dev server it takes as functions in [Options], the
// way httputil.ReverseProxy takes its hooks: inject the client into a
// page, make the tag of the backend-down page, publish a reload, and find
// the URL a request had before the server stripped its base path. So it
// holds no server and reads none of its state. It is internal: package
// hmr configures it from hmr.Options.Proxy and ProxyRoutes.
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/devserve/devserve/internal/page"
)

// Proxy mode: the dev server in front of a backend (hmr.Options.Proxy), typically
// a Go app that renders HTML on the server. The Server answers its own
// endpoints, the bundler's outputs and the files under its root, and
// proxies everything else to the backend with the client injected into
// the backend's pages (see hmr.Server.Inject for which responses get it).
//
// The backend restarts whenever its code changes (air, wgo, go run), and
// the pages must then reload once. A monitor goroutine holds one idle TCP
// connection to the backend, which costs nothing while nothing happens.
// When it ends (the backend exited, or closed an idle connection), the
// monitor dials again at once: a refused dial means the backend is down,
// and the monitor then dials with backoff until one succeeds, and
// publishes a reload. A proxied request whose dial fails tells the monitor
// too, and gets a page that says the backend is down and reloads on the
// next event, which that reload is at the latest.
//
// The monitor of a proxy route (hmr.ProxyRoute) holds no connection: an API
// that restarts should not reload the pages that use it. It waits until a
// proxied request finds the backend down, then dials with backoff until
// one succeeds, publishes the reload that the backend-down page waits for,
// and waits again.

// Timings of the backend monitor.
const (
	dialTimeout = 5 * time.Second
	// While the backend is down, dials start this often and back off to
	// maxRedial.
	minRedial = 20 * time.Millisecond
	maxRedial = 250 * time.Millisecond
	// ShortConn: a watch connection that ends sooner than this after its
	// dial (a port forwarder that accepts while nothing answers behind it)
	// is followed by a wait, so the monitor never spins.
	ShortConn = 100 * time.Millisecond
)

// Options configure a [Proxy]. Target is required; the hooks may be nil.
type Options struct {
	// Target is the http:// or https:// URL of the backend.
	Target *url.URL
	// Prefix is the path prefix of a proxy route, without its trailing
	// slash, or "" for the whole-app proxy. A route's answers get no
	// client, and its monitor watches the backend only after a request
	// found it down.
	Prefix string
	// Logger receives what happens to the backend. nil means no logging.
	Logger *slog.Logger
	// Inject injects the client into a page of the whole-app backend.
	// nil: pages pass as they are.
	Inject page.InjectFunc
	// DownTag returns the client's tag for the page that says the backend
	// is down: a tag that reloads the page on the first event after now.
	// It is called before the monitor hears of the failure, so the reload
	// the monitor publishes comes after. nil: the page gets no tag.
	DownTag func() []byte
	// Reload publishes a reload of every page, for reason, when the
	// backend is back after it was down. nil: nothing is published.
	Reload func(reason string)
	// Down reports, for reason ("the backend URL is down (why)"), that the
	// backend stopped answering. nil: it is only logged.
	Down func(reason string)
	// OriginalURL returns the URL r had before the dev server stripped its
	// base path: the whole-app backend gets the path as the browser sent
	// it. nil means r.URL.
	OriginalURL func(r *http.Request) *url.URL
}

// Proxy is the handler of proxy mode, or of one proxy route.
type Proxy struct {
	target *url.URL
	// prefix is the path prefix of a proxy route, without its trailing
	// slash, or "" for the whole-app proxy. A route's answers get no
	// client, and its monitor watches the backend only after a request
	// found it down (see monitor).
	prefix   string
	inject   page.InjectFunc
	downTag  func() []byte
	reload   func(reason string)
	downHook func(reason string)
	origURL  func(r *http.Request) *url.URL
	rp       *httputil.ReverseProxy
	tr       *http.Transport
	log      *slog.Logger

	// kick tells the monitor that a proxied request failed; true if its
	// dial failed, which means the backend was down.
	kick chan bool

	// ctx is cancelled by close, which ends the proxied requests in
	// progress (upgraded connections and streams among them).
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	writers  map[*http.ResponseController]bool // of the requests in progress
	inflight sync.WaitGroup
	done     chan struct{} // closed when the monitor returns
}

// writerKey is the context key of the ResponseWriter of a proxied request,
// for ModifyResponse.
type writerKey struct{}

// New returns the proxy of o. Start starts its monitor; Close stops it,
// or Cancel for a Proxy that was never started.
func New(o Options) (*Proxy, error) {
	target, prefix := o.Target, o.Prefix
	if target == nil {
		return nil, fmt.Errorf("proxy: no target URL")
	}
	if target.Scheme != "http" && target.Scheme != "https" || target.Host == "" {
		return nil, fmt.Errorf("proxy %s: want an http:// or https:// URL with a host", target.Redacted())
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	origURL := o.OriginalURL
	if origURL == nil {
		origURL = func(r *http.Request) *url.URL { return r.URL }
	}
	p := &Proxy{
		target:   target,
		prefix:   prefix,
		inject:   o.Inject,
		downTag:  o.DownTag,
		reload:   o.Reload,
		downHook: o.Down,
		origURL:  origURL,
		log:      log,
		kick:     make(chan bool, 1),
		writers:  map[*http.ResponseController]bool{},
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	p.tr = &http.Transport{
		Proxy:                 nil, // the backend is local; never an HTTP_PROXY
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
		ExpectContinueTimeout: time.Second,
		// The browser's Accept-Encoding goes to the backend as it is (less
		// the codings page.Decode cannot undo, for pages), and its answer comes
		// back as it is: no transparent gzip.
		DisableCompression: true,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      p.tr,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.fail,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return p, nil
}

// Start starts the monitor.
func (p *Proxy) Start() {
	go p.monitor()
}

// Close ends the proxied requests in progress and waits for them, and
// stops the monitor. The Proxy must have been started.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for rc := range p.writers {
		// Unblocks a write to a browser that does not read.
		_ = rc.SetWriteDeadline(time.Now())
	}
	p.mu.Unlock()
	p.cancel()
	p.inflight.Wait()
	<-p.done
	p.tr.CloseIdleConnections()
	return nil
}

// ServeHTTP proxies r to the backend.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		http.Error(w, "devserve: shutting down", http.StatusServiceUnavailable)
		return
	}
	p.inflight.Add(1)
	rc := http.NewResponseController(w)
	p.writers[rc] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.writers, rc)
		p.mu.Unlock()
		p.inflight.Done()
	}()

	// The Server's own headers are for what it serves itself; the
	// backend's answer has its own.
	h := w.Header()
	h.Del("Cross-Origin-Resource-Policy")
	h.Del("X-Content-Type-Options")

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(p.ctx, cancel)()
	ctx = context.WithValue(ctx, writerKey{}, w)
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

// rewrite makes the request to the backend. The Host header stays the
// browser's, so that the URLs, redirects, cookies and same-origin checks
// of the app see the origin the browser sees; X-Forwarded-For, -Host and
// -Proto say where the request came from. A route's request goes to the
// path that setRouteURL makes.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	if p.prefix == "" {
		// The backend gets the path as the browser sent it, base path
		// included: it lives behind the same reverse proxy.
		if u := p.origURL(pr.In); u != pr.In.URL {
			pr.Out.URL.Path, pr.Out.URL.RawPath = u.Path, u.RawPath
		}
		pr.SetURL(p.target)
	} else {
		setRouteURL(pr.Out.URL, p.target, p.prefix, pr.In.URL)
	}
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
	if p.prefix == "" && page.Wanted(pr.In) {
		pr.Out.Header = page.WithDecodableEncodings(pr.Out).Header
	}
}

// modifyResponse lets event streams last, and injects the client into the
// pages of the whole-app backend.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	r := resp.Request
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/event-stream" {
		// An event stream of the app lasts as long as it likes, not the
		// http.Server's WriteTimeout. (ReverseProxy flushes it as it comes.)
		if w, ok := r.Context().Value(writerKey{}).(http.ResponseWriter); ok {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		}
		return nil
	}
	if p.prefix != "" || p.inject == nil || !page.Wanted(r) || !page.IsPage(resp.StatusCode, resp.Header) {
		return nil
	}
	if r.Method == http.MethodHead {
		resp.Header.Del("Content-Length")
		resp.Header.Del("Content-Encoding")
		page.DropValidators(resp.Header)
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, page.MaxSize+1))
	if err != nil {
		return fmt.Errorf("read page %s: %w", r.URL.Path, err)
	}
	if len(raw) > page.MaxSize {
		p.log.Warn("hmr: page too big for the client", "path", r.URL.Path, "limit", page.MaxSize)
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(raw), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	doc, err := page.Decode(resp.Header.Get("Content-Encoding"), raw)
	if err != nil {
		p.log.Warn("hmr: page served without the client", "path", r.URL.Path, "err", err)
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		return nil
	}
	doc = p.inject(resp.Header, r, doc)
	page.SetHeader(resp.Header, len(doc))
	resp.Body = io.NopCloser(bytes.NewReader(doc))
	resp.ContentLength = int64(len(doc))
	resp.TransferEncoding = nil
	resp.Uncompressed = false
	return nil
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// fail answers a request that the backend did not answer. A page request
// gets a page that says so and reloads on the next event; others get a
// plain 502 Bad Gateway.
func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, err error) {
	if p.ctx.Err() != nil {
		http.Error(w, "devserve: shutting down", http.StatusServiceUnavailable)
		return
	}
	if r.Context().Err() != nil {
		return // the browser went away
	}
	var op *net.OpError
	down := errors.As(err, &op) && op.Op == "dial"
	// The page must reload on any event after this one: the reload that
	// the monitor publishes when the backend is back is one.
	var tag []byte
	if p.downTag != nil && page.Wanted(r) {
		tag = p.downTag()
	}
	select {
	case p.kick <- down:
	default:
	}
	what := "did not answer"
	if down {
		what = "is not running"
		p.log.Debug("hmr: backend down", "path", r.URL.Path, "err", err)
	} else {
		p.log.Warn("hmr: backend failed", "path", r.URL.Path, "err", err)
	}
	if !page.Wanted(r) {
		http.Error(w, "devserve: the backend "+p.target.Redacted()+" "+what+": "+err.Error(), http.StatusBadGateway)
		return
	}
	doc := fmt.Appendf(nil, downPage, html.EscapeString(p.target.Redacted()), what,
		html.EscapeString(err.Error()))
	doc = page.Inject(doc, tag)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusBadGateway)
	if r.Method != http.MethodHead {
		w.Write(doc)
	}
}

// downPage is the page served for a page request that the backend did not
// answer: the backend's URL, what happened and the error, HTML-escaped.
const downPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Backend not answering · devserve</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}
code{background:#eee;padding:0 .3em}.err{color:#a00;white-space:pre-wrap}</style></head>
<body><h1>The backend %[2]s</h1>
<p>devserve could not get this page from <code>%[1]s</code>:</p>
<p class="err">%[3]s</p>
<p>This page reloads as soon as the backend answers again.</p>
</body></html>
`

// monitor notices when the backend goes down and comes back, and then
// publishes a reload (see the comment at the top of this file). It returns
// when close cancels p.ctx.
func (p *Proxy) monitor() {
	defer close(p.done)
	addr := p.target.Host
	if p.target.Port() == "" {
		addr = net.JoinHostPort(p.target.Hostname(), map[string]string{"http": "80", "https": "443"}[p.target.Scheme])
	}
	dialer := net.Dialer{Timeout: dialTimeout}
	down := false
	wait := minRedial
	for {
		if p.prefix != "" && !down {
			// A route's backend is watched only once a request found it
			// down.
			select {
			case down = <-p.kick:
			case <-p.ctx.Done():
				return
			}
			if !down {
				continue
			}
			p.down("")
			wait = minRedial
		}
		conn, err := dialer.DialContext(p.ctx, "tcp", addr)
		if p.ctx.Err() != nil {
			if conn != nil {
				conn.Close()
			}
			return
		}
		if err != nil {
			if !down {
				p.down(err.Error())
			}
			down = true
			if _, ok := p.sleep(&wait); !ok {
				return
			}
			continue
		}
		if down {
			down = false
			p.log.Info("hmr: backend is back", "backend", p.target.Redacted())
			if p.reload != nil {
				p.reload("the backend " + p.target.Redacted() + " is back")
			}
		}
		if p.prefix != "" {
			conn.Close()
			continue
		}
		began := time.Now()
		var ok bool
		if down, ok = p.hold(conn); !ok {
			return
		}
		if time.Since(began) >= ShortConn {
			wait = minRedial
		} else {
			kicked, ok := p.sleep(&wait)
			if !ok {
				return
			}
			down = down || kicked
		}
	}
}

// down reports that the backend stopped answering, with why if known:
// in the log, and to the Down hook.
func (p *Proxy) down(why string) {
	reason := "the backend " + p.target.Redacted()
	if p.prefix != "" {
		reason += " of " + p.prefix
	}
	reason += " is down"
	if why != "" {
		reason += " (" + why + ")"
	}
	p.log.Info("hmr: backend is down", "backend", p.target.Redacted(), "route", p.prefix, "err", why)
	if p.downHook != nil {
		p.downHook(reason)
	}
}

// hold holds conn until the backend closes it, a proxied request fails
// (down reports whether its dial failed) or close stops the monitor (ok is
// false).
func (p *Proxy) hold(conn net.Conn) (down, ok bool) {
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		var buf [256]byte
		for {
			if _, err := conn.Read(buf[:]); err != nil {
				return
			}
		}
	}()
	ok = true
	select {
	case <-gone:
	case down = <-p.kick:
	case <-p.ctx.Done():
		ok = false
	}
	conn.Close()
	<-gone
	return down, ok
}

// sleep waits for *wait, or less when a proxied request fails (down
// reports whether its dial failed), and doubles *wait up to maxRedial. ok
// is false when close stops the monitor.
func (p *Proxy) sleep(wait *time.Duration) (down, ok bool) {
	t := time.NewTimer(*wait)
	defer t.Stop()
	*wait = min(*wait*2, maxRedial)
	select {
	case <-t.C:
	case down = <-p.kick:
	case <-p.ctx.Done():
		return false, false
	}
	return down, true
}
