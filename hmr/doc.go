// Package hmr implements devserve's dev server and its browser protocol:
// the [Server], which watches a project, builds it and serves it with the
// client injected into its pages; the event payloads; and a Server-Sent
// Events broker that fans build events out to every open page.
//
// What lives where: server.go holds the Server and what it serves (with
// base.go, public.go, spa.go, missing.go, linked.go, reload.go, pages.go
// and scripts.go for the base path, the public folder, the SPA fallback,
// missing pages, linked packages, extra watched folders, the pages as
// last served and the client's scripts); loop.go the build loop, and
// bundlefirst.go its bundled first pages while module mode compiles; event.go
// the events; broker.go the Broker, a thin face of internal/sse, which
// serves the stream (fan-out, heartbeat, replay); middleware.go Inject and
// InjectScript; routes.go the proxy routes' options. Each other job is an
// internal package with a typed boundary: internal/guard refuses foreign
// hosts, origins and paths; internal/page injects the client into a page
// and amends its Content-Security-Policy; internal/proxy is the reverse
// proxy of Options.Proxy and ProxyRoutes, which takes what it needs of
// the Server as functions; internal/protocol names the URLs, globals and
// events that the Go packages and the browser scripts share.
//
// The wire protocol is described in docs/DESIGN.md. In short, a page opens
// an EventSource on the broker's URL and receives a "sync" event with the
// current build state, then "building", "built", "errors" and "reload"
// events as they happen. Every event carries a growing numeric id; a page
// that reconnects with that id (in the Last-Event-ID header or the
// lastEventId query parameter) is sent the events it missed, or a fresh
// "sync" when they are no longer known.
//
// A [Broker] is a [net/http.Handler] and can be mounted inside any
// net/http server:
//
//	b := hmr.NewBroker(hmr.BrokerOptions{})
//	mux.Handle("GET /__devserve/events", b)
//	srv := &http.Server{Handler: mux}
//	srv.RegisterOnShutdown(func() { b.Close() })
//	...
//	b.Publish(hmr.EventBuilt, hmr.BuiltData{Build: id, Reload: true})
//
// [InjectScript] adds the client's <script> tag to the HTML pages served.
package hmr
