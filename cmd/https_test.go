package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/devcert"
)

// isolateConfig points the user's config dir and mkcert's CA folder at new
// empty folders, so that --https neither reads nor writes the real ones,
// and returns the folder where devserve keeps its certificate.
func isolateConfig(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("AppData", filepath.Join(home, "config"))
	t.Setenv("CAROOT", t.TempDir()) // mkcert made no CA there
	dir, err := devcert.DefaultDir()
	if err != nil || !strings.HasPrefix(dir, home) {
		t.Fatalf("DefaultDir() = %s, %v; want it under %s", dir, err, home)
	}
	return dir
}

// certFiles writes a certificate and its key for localhost to files, and a
// key of another certificate.
func certFiles(t *testing.T) (cert, key, otherKey string) {
	t.Helper()
	dir := t.TempDir()
	cert, key = writePair(t, dir, "a", "localhost", "127.0.0.1")
	_, otherKey = writePair(t, dir, "b", "localhost")
	return cert, key, otherKey
}

// writePair writes a self-signed certificate for names and its key, as
// name.crt and name.key in dir.
func writePair(t *testing.T, dir, name string, names ...string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, key
}

// getTLS requests url trusting the CA certificates in caFile, over proto
// ("h2" or "http/1.1"), and returns the response with its body read.
func getTLS(t *testing.T, caFile, url, proto string) (*http.Response, string) {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: new(http.Protocols)}
	defer tr.CloseIdleConnections()
	tr.Protocols.SetHTTP1(proto == "http/1.1")
	tr.Protocols.SetHTTP2(proto == "h2")
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s over %s: %v", url, proto, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestServeHTTPS serves with --https twice: the first run makes a CA and
// a certificate in the config dir and says how to trust it, the second
// reuses them; HTTP/2 and HTTP/1.1 clients that trust the CA are served.
func TestServeHTTPS(t *testing.T) {
	certs := isolateConfig(t)
	dir := tinyProject(t)
	var serial string
	for run := range 2 {
		out, url, stop := startServe(t, "--https", "--allowed-host", "app.test", "--port", "0", dir)
		if !regexp.MustCompile(`^https://127\.0\.0\.1:\d+/$`).MatchString(url) {
			t.Errorf("serving at %s", url)
		}
		for _, want := range []string{
			"  https: certificate for localhost, app.test, 127.0.0.1, ::1 in " + filepath.Join(certs, devcert.CertFile) + "\n",
			"  to make browsers trust it: install mkcert and run `mkcert -install`",
			"  or import " + filepath.Join(certs, devcert.CACertFile) + " as a certificate authority",
		} {
			// The lines after the URL may still be on their way.
			out.waitFor(t, regexp.MustCompile(regexp.QuoteMeta(want)))
		}
		for _, proto := range []string{"h2", "http/1.1"} {
			resp, body := getTLS(t, filepath.Join(certs, devcert.CACertFile), url+"main.ts", proto)
			if resp.StatusCode != 200 || !strings.Contains(body, `console.log("tiny")`) || resp.Proto != map[string]string{"h2": "HTTP/2.0", "http/1.1": "HTTP/1.1"}[proto] {
				t.Errorf("run %d: GET main.ts over %s: %s %s\n%s", run, proto, resp.Status, resp.Proto, body)
			}
			s := resp.TLS.PeerCertificates[0].SerialNumber.String()
			if serial == "" {
				serial = s
			} else if s != serial {
				t.Errorf("run %d over %s: another certificate than the first", run, proto)
			}
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	for name, mode := range map[string]os.FileMode{"": 0o700, devcert.CertFile: 0o600, devcert.CAKeyFile: 0o600} {
		if fi, err := os.Stat(filepath.Join(certs, name)); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, want mode %v", filepath.Join(certs, name), err, mode)
		}
	}
}

// TestServeUserCert serves the user's own --cert and --key, and warns when
// it is not for the host of the URL.
func TestServeUserCert(t *testing.T) {
	isolateConfig(t)
	dir := t.TempDir()
	tests := []struct {
		name  string
		names []string
		warn  string
	}{
		{"for the host", []string{"localhost", "127.0.0.1"}, ""},
		{"for another host", []string{"other.test"}, "warning: the certificate is not for 127.0.0.1: browsers will refuse it there (it is for other.test)"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, key := writePair(t, dir, string(rune('a'+i)), tt.names...)
			out, url, _ := startServe(t, "--cert", cert, "--key", key, "--port", "0", tinyProject(t))
			if !strings.HasPrefix(url, "https://127.0.0.1:") {
				t.Errorf("serving at %s", url)
			}
			// The lines after the URL may still be on their way: the
			// certificate's, then its warnings.
			out.waitFor(t, regexp.MustCompile(regexp.QuoteMeta("  https: certificate "+tt.names[0]+" (for "+strings.Join(tt.names, ", "))))
			if tt.warn != "" {
				out.waitFor(t, regexp.MustCompile(regexp.QuoteMeta(tt.warn)))
			} else if strings.Contains(out.String(), "warning:") {
				t.Errorf("a warning for a certificate of the host:\n%s", out.String())
			}
			if tt.warn != "" {
				return
			}
			resp, _ := getTLS(t, cert, url, "h2")
			if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
				t.Errorf("GET / : %s %s", resp.Status, resp.Proto)
			}
			if _, err := os.Stat(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "devserve")); err == nil {
				t.Error("--cert made a certificate of devserve's own")
			}
		})
	}
}
