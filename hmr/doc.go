// Package hmr implements devserve's browser protocol: the event payloads,
// a Server-Sent Events broker that fans build events out to every open
// page, and the injection of the client's <script> tag into HTML.
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
