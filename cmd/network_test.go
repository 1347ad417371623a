package cmd

import (
	"bytes"
	"net"
	"slices"
	"testing"

	"github.com/devserve/devserve/hmr"
)

func TestNetworkURLs(t *testing.T) {
	ipnet := func(s string) net.Addr {
		ip, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		return n
	}
	up, loop := net.FlagUp|net.FlagBroadcast|net.FlagMulticast|net.FlagRunning, net.FlagUp|net.FlagLoopback|net.FlagRunning
	lan := []netInterface{
		{"lo", loop, []net.Addr{ipnet("127.0.0.1/8"), ipnet("::1/128")}},
		{"eth0", up, []net.Addr{ipnet("192.168.1.5/24"), ipnet("fe80::1/64"), ipnet("2001:db8::5/64")}},
		{"wlan0", net.FlagBroadcast | net.FlagMulticast, []net.Addr{ipnet("10.0.0.7/8")}}, // down
		{"docker0", up, []net.Addr{ipnet("172.17.0.1/16"), ipnet("169.254.3.4/16")}},
		{"tun0", net.FlagUp | net.FlagPointToPoint, []net.Addr{&net.IPAddr{IP: net.ParseIP("10.8.0.2")}}},
		{"eth1", up, []net.Addr{ipnet("192.168.1.5/24")}}, // the same address twice
	}
	tests := []struct {
		name  string
		host  string
		https bool
		ifs   []netInterface
		want  []string
	}{
		{"all IPv4", "0.0.0.0", false, lan,
			[]string{"http://192.168.1.5:8000/", "http://172.17.0.1:8000/", "http://10.8.0.2:8000/"}},
		{"all, IPv6 too", "::", false, lan,
			[]string{"http://192.168.1.5:8000/", "http://[2001:db8::5]:8000/", "http://172.17.0.1:8000/", "http://10.8.0.2:8000/"}},
		{"https", "0.0.0.0", true, lan[:2], []string{"https://192.168.1.5:8000/"}},
		{"only loopback and down", "0.0.0.0", false, []netInterface{lan[0], lan[2]}, nil},
		{"no interfaces", "0.0.0.0", false, nil, nil},
		{"a given address", "192.168.1.5", false, lan, nil},
		{"loopback", "127.0.0.1", false, lan, nil},
		{"a name", "devbox.local", false, lan, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := networkURLs(tt.host, 8000, tt.https, tt.ifs); !slices.Equal(got, tt.want) {
				t.Errorf("networkURLs(%q) = %q, want %q", tt.host, got, tt.want)
			}
		})
	}
}

// TestInterfaces reads this machine's interfaces: loopback is among them
// wherever the tests run.
func TestInterfaces(t *testing.T) {
	ifs, err := interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ifs, func(i netInterface) bool { return i.Flags&net.FlagLoopback != 0 && len(i.Addrs) > 0 }) {
		t.Errorf("no loopback interface with an address in %+v", ifs)
	}
}

// TestExposed prints where a server that is not on loopback is served and
// the warning that goes with it.
func TestExposed(t *testing.T) {
	lan := []string{"http://192.168.1.5:8000/", "http://10.8.0.2:8000/"}
	tests := []struct {
		name    string
		host    string
		network []string
		quiet   bool
		want    string
	}{
		{"all interfaces", "0.0.0.0", lan, false, `devserve: serving . at http://localhost:8000/
  Network: http://192.168.1.5:8000/
  Network: http://10.8.0.2:8000/
devserve: warning: listening on 0.0.0.0: anyone on your network can read your source code
`},
		{"all interfaces, quiet", "0.0.0.0", lan, true,
			"devserve: warning: listening on 0.0.0.0: anyone on your network can read your source code at http://192.168.1.5:8000/, http://10.8.0.2:8000/\n"},
		{"all interfaces, none up", "::", []string{}, false, `devserve: serving . at http://localhost:8000/
  Network: no address yet (no interface but loopback is up)
devserve: warning: listening on [::]: anyone on your network can read your source code
`},
		{"one address", "192.168.1.5", nil, false, `devserve: serving . at http://localhost:8000/
devserve: warning: listening on 192.168.1.5: anyone on your network can read your source code at http://localhost:8000/
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := newPrinter(&out, tt.quiet)
			p.serving(".", "http://localhost:8000/", tt.network, hmr.Status{})
			p.exposed(tt.host, "http://localhost:8000/", tt.network)
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tt.want)
			}
			checkLines(t, out.String())
		})
	}
}
