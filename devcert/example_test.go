package devcert_test

import (
	"log"
	"net"

	"github.com/devserve/devserve/devcert"
	"github.com/devserve/devserve/hmr"
)

// A Go app that mounts hmr.Server serves it over HTTPS with HTTP/2, with
// the certificate the devserve command uses: a browser that trusts one
// trusts the other.
func ExampleEnsure() {
	dev, err := hmr.New(hmr.Options{Root: "web", AllowedHosts: []string{"app.test"}})
	if err != nil {
		log.Fatal(err)
	}
	cert, err := devcert.Ensure(devcert.Options{Hosts: []string{"app.test"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, note := range cert.Notes {
		log.Print(note)
	}
	if !cert.Mkcert {
		log.Printf("to trust the certificate, run `mkcert -install` or import %s", cert.CAFile)
	}
	hs := hmr.NewHTTPServer(dev, nil)
	hs.TLSConfig = cert.TLSConfig()
	hs.RegisterOnShutdown(func() { dev.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:8443")
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(hs.ServeTLS(ln, "", "")) // HTTP/2 and HTTP/1.1, by ALPN
}
