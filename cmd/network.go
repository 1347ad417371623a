package cmd

import (
	"fmt"
	"net"
	"net/netip"
)

// netInterface is what devserve needs of a network interface. interfaces
// reads them from net.Interfaces; tests give their own.
type netInterface struct {
	Name  string
	Flags net.Flags
	Addrs []net.Addr
}

// interfaces returns this machine's network interfaces with their
// addresses. An interface whose addresses cannot be read has none.
func interfaces() ([]netInterface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	out := make([]netInterface, 0, len(ifs))
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		out = append(out, netInterface{Name: i.Name, Flags: i.Flags, Addrs: addrs})
	}
	return out, nil
}

// networkURLs returns the URLs at which other machines reach a server
// listening on an unspecified address (0.0.0.0 or ::), as Vite prints them:
// one per address of an interface that is up and not loopback, in the
// order of ifs. Link-local addresses, which a URL cannot use without a
// zone, are left out; so are IPv6 addresses when host is 0.0.0.0, as Vite
// does, to keep the list short. For any other host it returns nil: its URL
// is the one printed.
func networkURLs(host string, port int, https bool, ifs []netInterface) []string {
	listen, err := netip.ParseAddr(host)
	if err != nil || !listen.IsUnspecified() {
		return nil
	}
	var urls []string
	seen := map[netip.Addr]bool{}
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		for _, a := range i.Addrs {
			ip := addrIP(a)
			if !ip.IsValid() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() ||
				listen.Is4() && !ip.Is4() || seen[ip] {
				continue
			}
			seen[ip] = true
			urls = append(urls, urlFor(ip.String(), port, https))
		}
	}
	return urls
}

// addrIP returns the IP of an interface address, IPv4 in its 4-byte form,
// or the zero Addr.
func addrIP(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.IPNet:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return addr.Unmap()
}
