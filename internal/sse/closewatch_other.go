//go:build !linux

package sse

// closeWatcher is, on Linux, what notices for many streams at once that
// their clients went. Elsewhere each stream has a goroutine to watch it.
type closeWatcher struct{}

func newCloseWatcher(*Broker) *closeWatcher { return nil }
func (*closeWatcher) add(*stream) bool      { return false }
func (*closeWatcher) remove(*stream)        {}
func (*closeWatcher) stop()                 {}
func (*closeWatcher) run()                  {}
