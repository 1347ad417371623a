// Package browsertest starts headless Chromium for the browser tests of
// devserve, and holds the few helpers that those tests need again and again.
//
// A test calls [New] to get a tab of a fresh browser, drives it with chromedp,
// and waits on browser-side conditions with [WaitJS]. [MarkPage] and
// [SamePage] tell a reload or a navigation from an update in place, and
// [Console] reads what the page logs. Everything that New and [NewTab]
// start stops in t.Cleanup.
//
// Chromium is /usr/bin/chromium, or the path in $DEVSERVE_CHROMIUM. When it is
// missing the test is skipped, or fails when $DEVSERVE_REQUIRE_BROWSER is 1.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// New starts a headless Chromium for the test and returns the context of its
// first tab. Pass the context to chromedp.Run and chromedp.Do, and to
// [NewTab] for more tabs of the same browser.
//
// New skips the test when Chromium is not installed, unless
// DEVSERVE_REQUIRE_BROWSER=1, and then the test fails. The browser runs with
// a user data directory from t.TempDir, and t.Cleanup stops it and its tabs.
// extra are flags the test needs besides [Flags], such as one that trusts
// the test's certificate.
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := os.Getenv("DEVSERVE_CHROMIUM")
	if path == "" {
		path = DefaultPath
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("DEVSERVE_REQUIRE_BROWSER") == "1" {
			t.Fatalf("chromium not found at %s; install it with apt-get install chromium "+
				"(the test fails instead of skipping because DEVSERVE_REQUIRE_BROWSER=1)", path)
		}
		t.Skipf("chromium not found at %s; install it with apt-get install chromium, "+
			"or set DEVSERVE_REQUIRE_BROWSER=1 to fail instead", path)
	}

	// TempDir first: cleanups run last in, first out, so the browser stops
	// before its directory is removed.
	dir := t.TempDir()
	opts := append(Flags(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		// Containers often have a tiny /dev/shm, and Chromium crashes
		// when it fills up.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser gracefully so it stops its helper processes,
		// then kill whatever is left by canceling the allocator.
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = chromedp.Cancel(cctx)
		cancelBrowser()
		cancelAlloc()
	})

	// Start the browser and its first tab now, so that a failure shows
	// here and NewTab opens tabs in this browser, not in a new one. This
	// first run must not have a timeout: the browser lives as long as the
	// context of the first run.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	return ctx
}

// Flags are the Chromium flags every headless browser of this project
// runs with, in tests and in the benchmark: headless as root, and none of
// the background traffic this machine's closed network refuses. Timers of a
// tab that is not in front keep full speed: the client's reconnect timer
// and the polling of waits rely on them with several tabs open.
func Flags() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("mute-audio", true),
	}
}

// NewTab opens another tab in the browser of ctx, a context from [New], and
// returns its context. t.Cleanup closes the tab.
func NewTab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("browsertest: opening a tab: %v", err)
	}
	return tab
}

// pollInterval is how often WaitJS evaluates its expression in the page.
// WaitJS polls on a timer rather than on animation frames, because a tab
// that is not in front gets no animation frames.
const pollInterval = 10 * time.Millisecond

// WaitJS waits until the JavaScript expression expr is truthy in the page of
// ctx, for at most timeout. The polling runs inside the page. An exception
// in expr counts as false, so expressions such as
// `window.__devserve.status === "ok"` can be polled before the page has set
// things up. A navigation or reload during the wait does not end it: WaitJS
// goes on polling in the new page.
func WaitJS(ctx context.Context, expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	pred := "(() => { try { return !!(" + expr + "); } catch (e) { return false; } })()"
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("browsertest: timed out after %v waiting for %s", timeout, expr)
		}
		wctx, cancel := context.WithTimeout(ctx, left+time.Second)
		_, err := chromedp.Run(wctx, chromedp.Poll[bool](pred,
			chromedp.WithPollingInterval(pollInterval),
			chromedp.WithPollingTimeout(left)))
		cancel()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, chromedp.ErrPollingTimeout):
			return fmt.Errorf("browsertest: timed out after %v waiting for %s", timeout, expr)
		case ctx.Err() != nil:
			return fmt.Errorf("browsertest: waiting for %s: %w", expr, ctx.Err())
		case navigated(err):
			// The page went away under the poll; poll in the new one.
			continue
		default:
			return fmt.Errorf("browsertest: waiting for %s: %w", expr, err)
		}
	}
}

// navigated reports whether err says that the page of a running script went
// away, which is what a reload or a navigation does to a poll.
func navigated(err error) bool {
	msg := err.Error()
	for _, s := range []string{
		"Execution context was destroyed",
		"Cannot find context with specified id",
		"Inspected target navigated or closed",
		"Promise was collected",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// marker is the global that MarkPage sets and SamePage checks.
const marker = "__browsertest_marker"

// MarkPage marks the current page of ctx, so that [SamePage] can tell
// later whether it is still the same page.
func MarkPage(ctx context.Context) error {
	// The Navigation API's navigate event fires as soon as a reload or a
	// navigation starts, before the old page goes away.
	return chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.`+marker+` = "same";
		window.navigation?.addEventListener("navigate", () => { window.`+marker+` = "leaving" })`))
}

// SamePage reports whether the page of ctx is the one that [MarkPage]
// marked: it has not reloaded or navigated, and has not started to. A
// page that called location.reload() is no longer the same page, even if
// the browser still shows it.
func SamePage(ctx context.Context) (bool, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[bool](`window.`+marker+` === "same"`))
}

// Console returns the console messages of the tab of ctx, from now until
// the end of the test, as "type: text" lines such as
// "warning: [devserve] connection lost". It goes on across reloads and
// navigations of the tab. The caller must keep reading the channel or
// stop the test; messages wait in an unbounded queue meanwhile.
func Console(t testing.TB, ctx context.Context) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	messages := chromedp.Console(ctx)
	lines := make(chan string)
	go func() {
		defer close(lines)
		for m, err := range messages {
			if err != nil {
				return
			}
			select {
			case lines <- m.String():
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines
}

// NeedPackages checks that the npm packages of the project folder dir
// are installed (npm writes node_modules/.package-lock.json), as .ci/run
// does with the command install (such as "npm ci"). Without them the test
// is skipped, or fails when $DEVSERVE_REQUIRE_BROWSER is 1, as New does
// without a browser: the tests that use real packages are browser tests.
func NeedPackages(t testing.TB, dir, install string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil {
		return
	}
	msg := "the packages of " + dir + " are not installed: run " + install + " there (.ci/run does)"
	if os.Getenv("DEVSERVE_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
