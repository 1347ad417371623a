package cmd

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/bundler"
)

// TestServeFlags checks what the serve command's parsing hands to its run
// function, with no server started: defaults, the folder argument and
// repeatable flags.
func TestServeFlags(t *testing.T) {
	defaults := serveOptions{dir: ".", port: 8000, host: "127.0.0.1", mode: bundler.DefaultMode, base: "/"}
	for _, tt := range []struct {
		name string
		args []string
		want func(o *serveOptions)
		err  string
	}{
		{name: "defaults", want: func(o *serveOptions) {}},
		{name: "dir", args: []string{"web"}, want: func(o *serveOptions) { o.dir = "web" }},
		{name: "port given", args: []string{"-p", "0"}, want: func(o *serveOptions) { o.port, o.portSet = 0, true }},
		{name: "repeatable", args: []string{"--proxy", "/api=http://127.0.0.1:1", "--proxy", "http://127.0.0.1:2", "--entry", "a.ts", "--entry", "b.css", "--watch", "tpl", "--ignore", "*.log", "--allowed-host", "dev.test"},
			want: func(o *serveOptions) {
				o.proxy = []string{"/api=http://127.0.0.1:1", "http://127.0.0.1:2"}
				o.entries = []string{"a.ts", "b.css"}
				o.watch = []string{"tpl"}
				o.ignores = []string{"*.log"}
				o.allowed = []string{"dev.test"}
			}},
		{name: "switches", args: []string{"-q", "--bundle", "--no-react-refresh", "--no-spa-fallback", "--allow-dotfiles", "--https"},
			want: func(o *serveOptions) {
				o.quiet, o.bundle, o.noFR, o.noSPA, o.dotfiles, o.https = true, true, true, true, true, true
			}},
		{name: "values", args: []string{"--host", "0.0.0.0", "--poll", "250ms", "--mode", "staging", "--base", "app", "--cert", "c.pem", "--key", "k.pem", "."},
			want: func(o *serveOptions) {
				o.host, o.poll, o.mode, o.base, o.cert, o.key = "0.0.0.0", 250*time.Millisecond, "staging", "app", "c.pem", "k.pem"
			}},
		{name: "two folders", args: []string{"a", "b"}, err: "accepts at most 1 arg"},
		{name: "bad duration", args: []string{"--poll", "soon"}, err: "invalid argument"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got *serveOptions
			c := newServeCommand(io.Discard, func(_ context.Context, o *serveOptions) error { got = o; return nil })
			c.SetArgs(tt.args)
			c.SetOut(io.Discard)
			c.SetErr(io.Discard)
			err := c.Execute()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaults
			tt.want(&want)
			got.out, want.out = nil, nil
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("parsed\n%+v\nwant\n%+v", *got, want)
			}
		})
	}
}

// TestBuildFlags is TestServeFlags for `devserve build`.
func TestBuildFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want buildOptions
	}{
		{nil, buildOptions{dir: ".", outdir: "dist", mode: "production", base: "/"}},
		{[]string{"web", "-o", "out", "--minify", "--entry", "a.ts", "--entry", "b.css", "--mode", "staging", "--base", "/app/"},
			buildOptions{dir: "web", outdir: "out", minify: true, entries: []string{"a.ts", "b.css"}, mode: "staging", base: "/app/"}},
	} {
		var got *buildOptions
		c := newBuildCommand(io.Discard, func(o *buildOptions) error { got = o; return nil })
		c.SetArgs(tt.args)
		if err := c.Execute(); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		got.out = nil
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%q: parsed\n%+v\nwant\n%+v", tt.args, *got, tt.want)
		}
	}
}
