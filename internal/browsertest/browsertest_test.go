package browsertest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const timeout = 10 * time.Second

// page serves a small HTML page, and 204 No Content for ?nocontent.
func page(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "nocontent" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>t</title><p id="p">hello</p>` +
			`<script>setTimeout(() => { window.ready = true }, 50)</script>`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestBrowser(t *testing.T) {
	url := page(t)
	ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if err := WaitJS(ctx, "window.ready === true", timeout); err != nil {
		t.Fatal(err)
	}
	// An exception in the expression counts as false, so this times out.
	if err := WaitJS(ctx, "window.nothing.here", 100*time.Millisecond); err == nil ||
		!strings.Contains(err.Error(), "timed out") {
		t.Fatalf("WaitJS on a throwing expression = %v, want a timeout", err)
	}

	if err := MarkPage(ctx); err != nil {
		t.Fatal(err)
	}
	if same, err := SamePage(ctx); err != nil || !same {
		t.Fatalf("SamePage right after MarkPage = %v, %v", same, err)
	}
	// A navigation that started counts, even one that ends up not
	// replacing the page: the server answers ?nocontent with 204.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`location.search = "?nocontent"`)); err != nil {
		t.Fatal(err)
	}
	if same, err := SamePage(ctx); err != nil || same {
		t.Fatalf("SamePage after a navigation to a 204 = %v, %v; want false", same, err)
	}
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.ready && location.search === ""`)); err != nil || !ok {
		t.Fatalf("the page should have stayed: %v, %v", ok, err)
	}
	if err := MarkPage(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if same, err := SamePage(ctx); err != nil || same {
		t.Fatalf("SamePage after a reload = %v, %v; want false", same, err)
	}

	lines := Console(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`console.warn("hello", 42)`)); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-lines:
		if line != "warning: hello 42" {
			t.Errorf("console line = %q, want %q", line, "warning: hello 42")
		}
	case <-time.After(timeout):
		t.Fatal("no console line")
	}

	tab := NewTab(t, ctx)
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if err := WaitJS(tab, `document.getElementById("p").textContent === "hello"`, timeout); err != nil {
		t.Fatal(err)
	}
	// Both tabs run timers, so the one behind is not throttled.
	if err := WaitJS(ctx, "window.ready === true", timeout); err != nil {
		t.Fatal(err)
	}
}

// TestWaitJSAcrossReload checks that a wait goes on in the page that a
// reload brings.
func TestWaitJSAcrossReload(t *testing.T) {
	url := page(t)
	ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/?n=1")); err != nil {
		t.Fatal(err)
	}
	// The page reloads itself to ?n=2 soon after the wait begins.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](
		`setTimeout(() => { location.search = "?n=2" }, 100)`)); err != nil {
		t.Fatal(err)
	}
	if err := WaitJS(ctx, `location.search === "?n=2" && window.ready`, timeout); err != nil {
		t.Fatal(err)
	}
}

// TestNoProcessLeft checks that the cleanup of New stops every process of
// the browser.
func TestNoProcessLeft(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc")
	}
	var dir string
	t.Run("browser", func(t *testing.T) {
		ctx := New(t)
		lines := Console(t, ctx)
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`console.warn("hello", 42)`)); err != nil {
			t.Fatal(err)
		}
		select {
		case line := <-lines:
			if line != "warning: hello 42" {
				t.Errorf("console line = %q, want %q", line, "warning: hello 42")
			}
		case <-time.After(timeout):
			t.Fatal("no console line")
		}

		tab := NewTab(t, ctx)
		if err := chromedp.Do(tab, chromedp.Navigate(page(t))); err != nil {
			t.Fatal(err)
		}
		c := chromedp.FromContext(ctx)
		if c == nil || c.Browser == nil {
			t.Fatal("no browser in the context")
		}
		dir = userDataDir(t)
	})
	if dir == "" {
		t.Fatal("found no process with the user data directory of the test")
	}
	if n := processesUsing(dir); n > 0 {
		t.Errorf("%d processes still use %s after the cleanup", n, dir)
	}
}

// userDataDir finds the --user-data-dir of a running browser of this test.
func userDataDir(t *testing.T) string {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if d, ok := strings.CutPrefix(string(arg), "--user-data-dir="); ok &&
				strings.Contains(d, "TestNoProcessLeft") {
				return d
			}
		}
	}
	return ""
}

// processesUsing counts the processes with dir as their user data directory.
func processesUsing(dir string) int {
	want := []byte("--user-data-dir=" + dir)
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Equal(arg, want) {
				n++
				break
			}
		}
	}
	return n
}
