package proxy

import (
	"net/url"
	"strings"
	"testing"
)

// TestSetRouteURL checks where a request under a route goes: the path as
// it is when the target has none, else with the prefix replaced by the
// target's path, encoded paths and queries kept as the browser sent them.
func TestSetRouteURL(t *testing.T) {
	tests := []struct {
		name, prefix, target, in, want string
	}{
		{"as is", "/api", "http://b:1", "/api/users", "/api/users"},
		{"as is, the prefix itself", "/api", "http://b:1", "/api", "/api"},
		{"as is, trailing slash of the prefix", "/api/", "http://b:1", "/api/users/", "/api/users/"},
		{"as is, query", "/api", "http://b:1", "/api/users?q=a%20b&x=1", "/api/users?q=a%20b&x=1"},
		{"as is, encoded slash", "/api", "http://b:1", "/api/a%2Fb", "/api/a%2Fb"},
		{"as is, encoded prefix", "/api", "http://b:1", "/%61pi/users", "/%61pi/users"},
		{"strip", "/api/", "http://b:1/", "/api/users", "/users"},
		{"strip, prefix without slash", "/api", "http://b:1/", "/api/users", "/users"},
		{"strip, the prefix itself", "/api/", "http://b:1/", "/api", "/"},
		{"strip, the prefix with its slash", "/api/", "http://b:1/", "/api/", "/"},
		{"strip, query", "/api/", "http://b:1/", "/api/users?q=1", "/users?q=1"},
		{"strip, encoded slash", "/api/", "http://b:1/", "/api/a%2Fb/c", "/a%2Fb/c"},
		{"strip, encoded prefix", "/api/", "http://b:1/", "/%61pi/users", "/users"},
		{"strip, encoded UTF-8 and space", "/api/", "http://b:1/", "/api/caf%C3%A9%20x", "/caf%C3%A9%20x"},
		{"strip, encoded after an encoded prefix", "/api/", "http://b:1/", "/a%70i/a%2Fb", "/a%2Fb"},
		{"replace", "/api", "http://b:1/v2", "/api/users", "/v2/users"},
		{"replace, the prefix itself", "/api", "http://b:1/v2", "/api", "/v2"},
		{"replace, target with a slash", "/api/", "http://b:1/v2/", "/api/users", "/v2/users"},
		{"replace, encoded target", "/api/", "http://b:1/a%2Fb/", "/api/x", "/a%2Fb/x"},
		{"deep prefix", "/api/v1", "http://b:1/", "/api/v1/users", "/users"},
		{"target query", "/api/", "http://b:1/?key=k", "/api/x?q=1", "/x?key=k&q=1"},
		{"target query alone", "/api/", "http://b:1/?key=k", "/api/x", "/x?key=k"},
		{"target query, as is", "/api", "http://b:1?key=k", "/api/x", "/api/x?key=k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := strings.TrimSuffix(tt.prefix, "/") // as hmr's routePrefix gives it
			in, err := url.ParseRequestURI(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			target, err := url.Parse(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			out := &url.URL{}
			setRouteURL(out, target, prefix, in)
			if got := out.RequestURI(); got != tt.want {
				t.Errorf("%s under %s=%s: %s, want %s", tt.in, tt.prefix, tt.target, got, tt.want)
			}
			if out.Scheme != "http" || out.Host != "b:1" {
				t.Errorf("goes to %s://%s", out.Scheme, out.Host)
			}
		})
	}
}
