package cmd

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary stand in for the devserve binary in the
// scripts: their `exec devserve ...` runs Execute, as main.go does. The
// tests run with the user cache folder (os.UserCacheDir, where devserve
// keeps the module cache of a project without node_modules) in a
// temporary folder: they serve with the cache on, as users do, and leave
// nothing in the user's.
func TestMain(m *testing.M) {
	testscript.Main(isolatedCache{m}, map[string]func(){"devserve": Execute})
}

// isolatedCache runs the tests with XDG_CACHE_HOME in a temporary folder.
type isolatedCache struct{ m *testing.M }

func (c isolatedCache) Run() int {
	dir, err := os.MkdirTemp("", "devserve-cmd-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Setenv("XDG_CACHE_HOME", dir)
	return c.m.Run()
}

// TestScripts runs the end-to-end scenarios of testdata/scripts, each a
// txtar archive of a project and the commands a user types (as Hugo's
// testscripts do): `exec devserve build`, or `serve` to start the server
// in the background, then `get`, `cp` to edit a file, `await` the
// terminal line that says it was built, and `get` again. See scriptCmds.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../testdata/scripts",
		// In the test's own folder: testscript leaves its folder of
		// scripts in the temporary folder when -run picks some of them.
		WorkdirRoot: t.TempDir(),
		Setup: func(env *testscript.Env) error {
			env.Values[scriptServerKey{}] = &scriptServer{}
			return nil
		},
		Cmds: scriptCmds,
	})
}

// scriptCmds are the scripts' commands besides testscript's own:
//
//	serve [args...]  start `devserve --port 0 args...` in the background; it
//	                 stops when the script ends or at `stop`. Paths are
//	                 the test process's: use $WORK. With !, devserve must
//	                 fail to start; its output and error become stdout
//	                 and stderr
//	get [-h] [-nav] PATH
//	                 GET PATH of the server; stdout is the body (with -h,
//	                 the status line and headers first); -nav asks as a
//	                 browser's navigation does. With !, a 4xx or 5xx is
//	                 expected
//	await REGEXP     wait until the server's output matches REGEXP
//	stop             stop the server; its output becomes stdout
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"serve": func(ts *testscript.TestScript, neg bool, args []string) {
		srv := scriptServerOf(ts)
		if srv.bg != nil {
			ts.Fatalf("serve: already serving")
		}
		b := runBackground(append([]string{"--port", "0"}, args...))
		srv.bg = b
		ts.Defer(func() { b.stop() })
		at, err := b.url(20 * time.Second)
		if b.exited() {
			srv.bg = nil // stopped: the script may serve again
			fmt.Fprint(ts.Stdout(), b.out.String())
			fmt.Fprintln(ts.Stderr(), "devserve: "+err.Error())
		}
		switch {
		case err != nil && !neg:
			ts.Fatalf("serve: %v", err)
		case err == nil && neg:
			ts.Fatalf("serve: started at %s", at)
		case err == nil:
			u, err := url.Parse(at)
			ts.Check(err)
			srv.url = u.Scheme + "://" + u.Host
		}
	},
	"get": func(ts *testscript.TestScript, neg bool, args []string) {
		var headers, nav bool
		for len(args) > 1 && strings.HasPrefix(args[0], "-") {
			switch args[0] {
			case "-h":
				headers = true
			case "-nav":
				nav = true
			default:
				ts.Fatalf("get: unknown flag %s", args[0])
			}
			args = args[1:]
		}
		if len(args) != 1 {
			ts.Fatalf("usage: get [-h] [-nav] PATH")
		}
		srv := scriptServerOf(ts)
		if srv.url == "" {
			ts.Fatalf("get: no server; serve first")
		}
		req, err := http.NewRequest(http.MethodGet, srv.url+args[0], nil)
		ts.Check(err)
		if nav {
			req.Header.Set("Sec-Fetch-Dest", "document")
			req.Header.Set("Accept", "text/html")
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		ts.Check(err)
		defer resp.Body.Close()
		if headers {
			fmt.Fprintf(ts.Stdout(), "%s %s\n", resp.Proto, resp.Status)
			resp.Header.Write(ts.Stdout())
			fmt.Fprintln(ts.Stdout())
		}
		_, err = io.Copy(ts.Stdout(), resp.Body)
		ts.Check(err)
		if failed := resp.StatusCode >= 400; failed != neg {
			ts.Fatalf("get %s: %s", args[0], resp.Status)
		}
	},
	"await": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 || neg {
			ts.Fatalf("usage: await REGEXP")
		}
		srv := scriptServerOf(ts)
		if srv.bg == nil {
			ts.Fatalf("await: no server; serve first")
		}
		re, err := regexp.Compile(args[0])
		ts.Check(err)
		_, err = srv.bg.out.await(re, 20*time.Second)
		ts.Check(err)
	},
	"stop": func(ts *testscript.TestScript, neg bool, args []string) {
		srv := scriptServerOf(ts)
		if srv.bg == nil {
			ts.Fatalf("stop: no server")
		}
		err := srv.bg.stop()
		fmt.Fprint(ts.Stdout(), srv.bg.out.String())
		if (err != nil) != neg {
			ts.Fatalf("stop: %v", err)
		}
	},
}

// scriptServerKey keys a script's scriptServer in its Env.Values.
type scriptServerKey struct{}

// scriptServer is the devserve a script started with `serve`.
type scriptServer struct {
	bg  *background // nil before serve, and after a serve that failed
	url string      // scheme and host: paths in the scripts are whole
}

func scriptServerOf(ts *testscript.TestScript) *scriptServer {
	return ts.Value(scriptServerKey{}).(*scriptServer)
}
