// Command goapp is a small Go web app that renders its pages on the server
// with html/template, answers an htmx-style partial, and bundles a little
// TypeScript and CSS. With -dev it mounts devserve's hmr package for live
// reload; without, it is the app as it would ship.
//
//	cd testdata/goapp
//	go run . -dev       # http://127.0.0.1:8080/; edit web/static/*, templates/*
//
// In development the bundles come from hmr.Server, which builds
// web/static/app.ts and app.css with esbuild on every save and updates the
// open pages; a change of a template reloads them. In production, build
// them once (devserve build web --outdir dist) and serve dist.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/hmr"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	dev := flag.Bool("dev", false, "development: bundle on the fly and live-reload the pages")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dev); err != nil {
		log.Fatal(err)
	}
}

// app is the web app: its pages and its partial.
type app struct {
	dev  bool
	tmpl *template.Template // parsed once, unless dev
}

// templates parses the templates: on every request in development, so that
// an edit shows at the next reload.
func (a *app) templates() (*template.Template, error) {
	if a.tmpl != nil && !a.dev {
		return a.tmpl, nil
	}
	return template.ParseGlob(filepath.Join("templates", "*.html"))
}

func (a *app) render(w http.ResponseWriter, name string, data any) {
	t, err := a.templates()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.ExecuteTemplate(w, name, data); err != nil {
		log.Printf("render %s: %v", name, err)
	}
}

func (a *app) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, "page.html", map[string]string{"Title": "goapp"})
	})
	mux.HandleFunc("GET /greeting", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, "greeting.html", map[string]string{"Name": "gopher"})
	})
}

func run(ctx context.Context, addr string, devMode bool) error {
	a := &app{dev: devMode}
	var err error
	if a.tmpl, err = a.templates(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	a.routes(mux)
	var handler http.Handler = mux
	var dev *hmr.Server
	if devMode {
		dev, err = hmr.New(hmr.Options{
			Root:       "web",
			Build:      bundler.BuildOptions{Entries: []string{"static/app.ts", "static/app.css"}},
			ReloadDirs: []string{"templates"},
		})
		if err != nil {
			return err
		}
		defer dev.Close()
		mux.Handle(hmr.Prefix, dev)     // the client and its event stream
		mux.Handle("GET /static/", dev) // the bundles, rebuilt on every save
		handler = dev.Inject(mux)       // the client in every page
	} else {
		mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.Dir("dist/static"))))
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := hmr.NewHTTPServer(handler, nil)
	if dev != nil {
		// The event streams are not requests that Shutdown waits for:
		// end them first.
		hs.RegisterOnShutdown(func() { dev.Close() })
	}
	fmt.Printf("goapp: listening on http://%s/\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
