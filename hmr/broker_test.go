package hmr

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/ssetest"
)

// The stream itself (fan-out, replay, heartbeat, dropping clients) is
// tested in internal/sse; these tests cover what hmr.Broker adds: the
// sync data.

// serveBroker returns b served by a test server. Cleanup closes b, then
// the server.
func serveBroker(t *testing.T, b *Broker) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { b.Close() })
	return srv
}

func TestBrokerSyncData(t *testing.T) {
	tests := []struct {
		name string
		opts BrokerOptions
		want string
	}{
		{"default", BrokerOptions{FirstID: 1000},
			`{"build":"","status":"ok","failed":false,"errors":[],"warnings":[],"heartbeatMs":10000}`},
		{"heartbeat added", BrokerOptions{FirstID: 1000, Heartbeat: time.Hour, Sync: func() any { return SyncData{Build: "b1", Status: StatusBuilding} }},
			`{"build":"b1","status":"building","failed":false,"errors":[],"warnings":[],"heartbeatMs":3600000}`},
		{"heartbeat kept", BrokerOptions{FirstID: 1000, Sync: func() any { return SyncData{Status: StatusOK, HeartbeatMs: 5} }},
			`{"build":"","status":"ok","failed":false,"errors":[],"warnings":[],"heartbeatMs":5}`},
		{"other data", BrokerOptions{FirstID: 1000, Sync: func() any { return map[string]int{"x": 1} }},
			`{"x":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serveBroker(t, NewBroker(tt.opts))
			got := ssetest.Open(t, srv, "/events").Start()
			if want := (ssetest.Event{Type: EventSync, Data: tt.want, LastEventID: "1000"}); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestBrokerLastID(t *testing.T) {
	b := NewBroker(BrokerOptions{FirstID: 41})
	if id := b.lastID(); id != 41 {
		t.Errorf("lastID() = %d before any event, want FirstID 41", id)
	}
	if id := ssetest.MustPublish(t, b, EventReload, ReloadData{}); id != 42 || b.lastID() != 42 {
		t.Errorf("Publish = %d, lastID() = %d; want 42", id, b.lastID())
	}
	b.Close()
	if _, _, err := b.Publish(EventReload, ReloadData{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
}
