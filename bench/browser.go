//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// Browser is one headless Chromium for the whole run.
type Browser struct {
	ctx     context.Context
	cancel  context.CancelFunc
	Version string
}

// chromiumFlags are the browser's command-line flags, with its user data
// in dir. chromedp adds --remote-debugging-pipe and about:blank.
func chromiumFlags(execPath, dir string) []chromedp.ExecAllocatorOption {
	return append(browsertest.Flags(),
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-extensions", true),
	)
}

// StartBrowser starts Chromium at execPath, with its user data and
// temporary files (TMPDIR) in dir, which the caller removes: a browser
// that is killed leaves its singleton socket's folder behind.
// Cancelling ctx kills it.
func StartBrowser(ctx context.Context, execPath, dir string) (*Browser, error) {
	opts := append(chromiumFlags(execPath, dir), chromedp.Env("TMPDIR="+dir))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	b := &Browser{ctx: bctx, cancel: func() { cancelBrowser(); cancelAlloc() }}
	if err := chromedp.Do(bctx); err != nil {
		b.cancel()
		return nil, fmt.Errorf("start chromium %s: %w", execPath, err)
	}
	v, err := chromedp.CallBrowser(bctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("chromium version: %w", err)
	}
	b.Version = v.Product
	return b, nil
}

// Close ends the browser.
func (b *Browser) Close() { b.cancel() }

// Tab is a page in its own browser context (own cache, cookies and
// sessionStorage), so that each server run starts with a cold HTTP cache.
type Tab struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// NewTab opens about:blank in a new browser context and turns off the
// domains chromedp enables on attach that the harness does not use: Network
// (no network events at all), DOM, CSS and Log. Runtime and Page stay on.
func (b *Browser) NewTab() (*Tab, error) {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("open tab: %w", err)
	}
	for _, cmd := range []cdp.Command[cdp.Empty, cdp.Empty]{network.Disable, dom.Disable, css.Disable, log.Disable} {
		if _, err := chromedp.Call(ctx, cmd, cdp.Empty{}); err != nil {
			cancel()
			return nil, fmt.Errorf("tab: %s: %w", cmd.Method, err)
		}
	}
	return &Tab{ctx: ctx, cancel: cancel}, nil
}

// Close closes the tab and its browser context.
func (t *Tab) Close() { t.cancel() }

// errNavigation is returned by Navigate when the browser could not load the
// page at all (for example, connection refused).
var errNavigation = errors.New("navigation failed")

// Navigate starts loading url and returns without waiting for the load
// (Page.navigate answers once the response has started, which a dev server
// may hold until its first build is done: up to deadline).
func (t *Tab) Navigate(ctx context.Context, url string, deadline time.Time) error {
	ctx, cancel := t.callCtx(ctx, max(time.Until(deadline), time.Second))
	defer cancel()
	res, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: url})
	if err != nil {
		return fmt.Errorf("navigate to %s: %w", url, err)
	}
	if res.ErrorText != "" {
		return fmt.Errorf("%w: %s: %s", errNavigation, url, res.ErrorText)
	}
	return nil
}

// Reload reloads the page as a dev server's client does, with
// location.reload(), and returns without waiting for the load.
func (t *Tab) Reload(ctx context.Context) error {
	ctx, cancel := t.callCtx(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`location.reload()`)); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	return nil
}

// ProbeState is what the page's probe reports. Times are page wall-clock
// milliseconds since the epoch (performance.timeOrigin + performance.now()),
// zero when not seen in the current document.
type ProbeState struct {
	Loads   int     `json:"loads"`   // documents loaded in this tab (sessionStorage)
	Runs    int     `json:"runs"`    // runs of main.js in this tab (sessionStorage)
	Marker  string  `json:"marker"`  // the marker last set in this document
	OutAt   float64 `json:"outAt"`   // when #out first showed the wanted text
	TotalAt float64 `json:"totalAt"` // when #total first showed the wanted text
	ColorAt float64 `json:"colorAt"` // when #out first had the wanted color
	HotAt   float64 `json:"hotAt"`   // when #hot first showed the wanted text
	Out     string  `json:"out"`     // #out's text now
	Total   string  `json:"total"`   // #total's text now
	Hot     string  `json:"hot"`     // #hot's text now
	Count   string  `json:"count"`   // the counter's text now
	Ready   bool    `json:"ready"`   // document.readyState is "complete"
	// Bundled: the page runs the bundle devserve serves while module
	// mode compiles, which it leaves once module mode serves.
	Bundled bool `json:"bundled"`
}

// Want is what a poll waits for; empty fields are not looked for.
type Want struct {
	Out, Total, Color, Hot string
}

// Query asks the probe of the current document. It returns nil when the
// document has no probe (an error page, or a document still loading).
func (t *Tab) Query(ctx context.Context, w Want) (*ProbeState, error) {
	args, err := json.Marshal([]string{w.Out, w.Total, w.Color, w.Hot})
	if err != nil {
		return nil, fmt.Errorf("encode query: %w", err)
	}
	expr := fmt.Sprintf(`(function (a) {
  return window.__bench ? __bench.query(a[0], a[1], a[2], a[3]) : null;
})(%s)`, args)
	ctx, cancel := t.callCtx(ctx, 10*time.Second)
	defer cancel()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[*ProbeState](expr))
	if err != nil {
		return nil, fmt.Errorf("query probe: %w", err)
	}
	return st, nil
}

// SetMarker stores a marker in the current document's window. A later Query
// that reports another marker was answered by a new document: the page
// navigated.
func (t *Tab) SetMarker(ctx context.Context, marker string) error {
	lit, err := json.Marshal(marker)
	if err != nil {
		return fmt.Errorf("encode marker: %w", err)
	}
	ctx, cancel := t.callCtx(ctx, 10*time.Second)
	defer cancel()
	expr := fmt.Sprintf(`window.__bench ? (__bench.marker = %s, true) : false`, lit)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		return fmt.Errorf("set marker: %w", err)
	}
	if !ok {
		return errors.New("set marker: the page has no probe")
	}
	return nil
}

// Click clicks the page's counter (the probe's count element) once.
func (t *Tab) Click(ctx context.Context) error {
	ctx, cancel := t.callCtx(ctx, 10*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__bench ? __bench.click() : false`))
	if err != nil {
		return fmt.Errorf("click the counter: %w", err)
	}
	if !ok {
		return errors.New("click the counter: the page has no probe or no counter")
	}
	return nil
}

// Fetch is one resource the page fetched, from the Resource Timing API,
// in milliseconds after the save (the start of the sample).
type Fetch struct {
	// URL is the resource's path and query.
	URL string `json:"url"`
	// StartMs is when the browser started the request; EndMs when the
	// response had been read.
	StartMs float64 `json:"start_ms"`
	EndMs   float64 `json:"end_ms"`
}

// ClearFetches empties the document's Resource Timing buffer, so that a
// page that fetched more than its limit (250 entries) when it loaded
// records the fetches of the next edit.
func (t *Tab) ClearFetches(ctx context.Context) error {
	ctx, cancel := t.callCtx(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`performance.clearResourceTimings(), true`)); err != nil {
		return fmt.Errorf("clear resource timings: %w", err)
	}
	return nil
}

// Fetches returns the resources the document fetched that started at or
// after since (page wall-clock milliseconds since the epoch), with times
// relative to since.
func (t *Tab) Fetches(ctx context.Context, since float64) ([]Fetch, error) {
	ctx, cancel := t.callCtx(ctx, 10*time.Second)
	defer cancel()
	expr := fmt.Sprintf(`performance.getEntriesByType('resource').map(function (e) {
  var u = new URL(e.name);
  return { url: u.pathname + u.search, start_ms: performance.timeOrigin + e.startTime - %[1]f,
           end_ms: performance.timeOrigin + e.responseEnd - %[1]f };
}).filter(function (f) { return f.start_ms >= 0; })`, since)
	fetches, err := chromedp.Run(ctx, chromedp.Evaluate[[]Fetch](expr))
	if err != nil {
		return nil, fmt.Errorf("read resource timings: %w", err)
	}
	for i := range fetches {
		fetches[i].StartMs, fetches[i].EndMs = round3(fetches[i].StartMs), round3(fetches[i].EndMs)
	}
	return fetches, nil
}

// ClockOffset compares the current document's clock with Go's wall clock. It
// reads performance.timeOrigin + performance.now() three times between two
// time.Now() calls and keeps the read with the shortest round trip: offset is
// page time minus the midpoint of that round trip, and uncertainty is half of
// it, both in milliseconds.
func (t *Tab) ClockOffset(ctx context.Context) (offset, uncertainty float64, err error) {
	ctx, cancel := t.callCtx(ctx, 10*time.Second)
	defer cancel()
	best := -1.0
	for reads, navigations := 0, 0; reads < 3; reads++ {
		before := time.Now()
		pageMs, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.timeOrigin + performance.now()`))
		after := time.Now()
		if err != nil && navigations < 10 && strings.Contains(err.Error(), "navigated or closed") {
			// The page reloaded (devserve's moves from its first bundle
			// to module mode): every document reads the same clock.
			navigations++
			reads--
			continue
		}
		if err != nil {
			return 0, 0, fmt.Errorf("read page clock: %w", err)
		}
		rtt := msSince(before, after)
		if best < 0 || rtt < best {
			best = rtt
			offset = pageMs - (epochMs(before)+epochMs(after))/2
		}
	}
	return offset, best / 2, nil
}

// callCtx bounds one browser call. The tab's context carries the browser;
// ctx carries the run's cancellation (Ctrl-C).
func (t *Tab) callCtx(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	cctx, cancel := context.WithTimeout(t.ctx, d)
	stop := context.AfterFunc(ctx, cancel)
	return cctx, func() { stop(); cancel() }
}

// epochMs is t in milliseconds since the Unix epoch, with microseconds.
func epochMs(t time.Time) float64 { return float64(t.UnixMicro()) / 1000 }

// round3 rounds milliseconds to microseconds, the precision of the clocks.
func round3(ms float64) float64 { return math.Round(ms*1000) / 1000 }

// msSince is b - a in milliseconds.
func msSince(a, b time.Time) float64 { return float64(b.Sub(a).Microseconds()) / 1000 }
