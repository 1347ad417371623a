package cmd

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/devserve/devserve/devcert"
)

// certificate returns the certificate that --https, --cert and --key ask
// for, or nil for plain HTTP. hosts are the names the server answers
// besides loopback ones, which a certificate devserve makes must cover.
func certificate(f *serveOptions, hosts []string) (*devcert.Cert, error) {
	switch {
	case f.cert != "" && f.key == "":
		return nil, errors.New("--cert needs --key, the file of the certificate's private key")
	case f.key != "" && f.cert == "":
		return nil, errors.New("--key needs --cert, the file of the certificate")
	case f.cert != "":
		c, err := devcert.Load(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		return c, nil
	case f.https:
		c, err := devcert.Ensure(devcert.Options{Hosts: hosts})
		if err != nil {
			return nil, fmt.Errorf("--https: %w", err)
		}
		return c, nil
	}
	return nil, nil
}

// serveOn serves hs on ln, with TLS when hs has a TLSConfig: ServeTLS
// offers HTTP/2 and HTTP/1.1 by ALPN.
func serveOn(hs *http.Server, ln net.Listener) error {
	if hs.TLSConfig != nil {
		return hs.ServeTLS(ln, "", "")
	}
	return hs.Serve(ln)
}

// certificate prints which certificate serves HTTPS and how to make the
// browser trust it; host is the one of the URL printed.
func (p *printer) certificate(c *devcert.Cert, host string) {
	for _, n := range c.Notes {
		p.warn("%s", n)
	}
	leaf := c.Certificate.Leaf
	if c.File == "" { // the user's own
		p.detail("https: certificate %s (for %s, until %s)", leaf.Subject.CommonName, strings.Join(c.Names(), ", "), leaf.NotAfter.Format(time.DateOnly))
		if time.Now().After(leaf.NotAfter) {
			p.warn("the certificate expired on %s: browsers will refuse it", leaf.NotAfter.Format(time.DateOnly))
		}
		if !c.Covers(host) {
			p.warn("the certificate is not for %s: browsers will refuse it there (it is for %s)", host, strings.Join(c.Names(), ", "))
		}
		return
	}
	p.detail("https: certificate for %s in %s", strings.Join(c.Names(), ", "), c.File)
	if c.Replaced != "" {
		p.detail("%s", p.paint(dim, "made anew: the one before "+c.Replaced))
	}
	if c.Mkcert {
		p.detail("%s", p.paint(dim, "signed by mkcert's CA ("+c.CAFile+"): browsers trust it where `mkcert -install` ran"))
		return
	}
	p.detail("%s", p.paint(dim, "to make browsers trust it: install mkcert and run `mkcert -install` (devserve then signs with mkcert's CA),"))
	p.detail("%s", p.paint(dim, "or import "+c.CAFile+" as a certificate authority in the browser or the system"))
}
