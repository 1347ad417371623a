// Package devcert makes and keeps the TLS certificate of a development
// server, so that it can serve https:// on localhost and the names it is
// reached by: the pages then get what browsers keep for secure contexts
// (Secure cookies, service workers on hosts other than localhost,
// crypto.subtle) and HTTP/2, whose one connection carries the event streams
// of every tab.
//
// [Ensure] returns a certificate for localhost, 127.0.0.1, ::1 and the
// names it is given. It signs it with mkcert's CA when mkcert has made one
// (browsers where `mkcert -install` ran trust it at once), else with a CA
// of its own that the user imports once. Both the CA and the certificate
// are kept in a folder of the user's config dir and reused while they are
// valid, so that a trust given once lasts. [Load] reads a certificate the
// user made instead.
//
// The package is public, and not internal to the devserve command, so that
// a Go app that mounts hmr.Server in its own http.Server serves HTTPS the
// same way, with the same stored CA: a user who trusted it for the command
// trusts the app too.
//
// Only the standard library's crypto is used; keys are ECDSA P-256.
package devcert

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Names of the files Ensure keeps in Options.Dir.
const (
	// CAKeyFile holds devserve's own CA: its certificate and private key
	// (mode 0600). It is made only when mkcert's CA is not used.
	CAKeyFile = "ca.pem"
	// CACertFile is the certificate of devserve's own CA alone: the file
	// to import as a certificate authority into a browser or the system.
	CACertFile = "ca.crt"
	// CertFile holds the server certificate and its private key (mode
	// 0600), in one file so that a reader never sees the one without the
	// other.
	CertFile = "localhost.pem"
)

// Lifetimes. The certificate's stays under the 398 days that browsers
// accept from public CAs, in case one applies the rule to private ones.
const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	certLifetime = 397 * 24 * time.Hour
	// renewBefore is how long before its end a certificate or CA is
	// replaced, so that it does not expire during a session.
	renewBefore = 30 * 24 * time.Hour
	// backdate covers clocks that are a little behind.
	backdate = time.Hour
)

// Options configure [Ensure]. The zero value keeps the files in
// os.UserConfigDir()/devserve/certs, covers the loopback names only and
// uses mkcert's CA when there is one.
type Options struct {
	// Dir is the folder of the CA and the certificate; "" means
	// [DefaultDir].
	Dir string
	// Hosts are names and IP addresses the certificate must cover besides
	// localhost, 127.0.0.1 and ::1: the listen address, the allowed Host
	// names. "*", unspecified addresses (0.0.0.0, ::) and what cannot be
	// a name in a certificate are left out. A port is ignored.
	Hosts []string
	// CARoot is mkcert's CA folder, which holds rootCA.pem and
	// rootCA-key.pem; "" means $CAROOT, or else what `mkcert -CAROOT`
	// prints when mkcert is on the PATH. A folder without those files
	// means no mkcert CA.
	CARoot string
	// NoMkcert signs with devserve's own CA even when mkcert has one.
	NoMkcert bool

	// now, for tests, replaces time.Now.
	now func() time.Time
}

// Cert is a certificate to serve, as [Ensure] or [Load] returned it.
type Cert struct {
	// Certificate is the certificate with its private key; its Leaf is
	// set.
	Certificate tls.Certificate
	// File is where Ensure keeps it; "" when it came from Load.
	File string
	// CAFile is the certificate of the CA that signed it: mkcert's
	// rootCA.pem, or devserve's own CACertFile, to import as a certificate
	// authority so that browsers trust the certificate. "" when it came
	// from Load.
	CAFile string
	// Mkcert is set when mkcert's CA signed the certificate: browsers of
	// a machine where `mkcert -install` ran trust it already.
	Mkcert bool
	// Created is set when Ensure made the certificate now instead of
	// reusing the stored one.
	Created bool
	// Replaced says why Ensure replaced the stored certificate, which was
	// fine otherwise: it "ends on 2026-01-02", "does not cover app.test"
	// or "was signed by another CA". "" when it did not.
	Replaced string
	// NewCA is set when Ensure made devserve's own CA now: a browser that
	// trusted an earlier one must be told to trust this one.
	NewCA bool
	// Notes say, a sentence each, what Ensure found wrong and repaired: a
	// corrupt file, a CA it could not use.
	Notes []string
}

// TLSConfig returns a tls.Config that serves c. Give it to an
// http.Server as TLSConfig and start it with ServeTLS(ln, "", ""): the
// server then offers HTTP/2 and HTTP/1.1 by ALPN.
func (c *Cert) TLSConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{c.Certificate},
		MinVersion:   tls.VersionTLS12,
	}
}

// Names returns the DNS names and IP addresses the certificate covers.
func (c *Cert) Names() []string {
	leaf := c.Certificate.Leaf
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// Covers reports whether the certificate is valid for host, a name or an
// IP address without port.
func (c *Cert) Covers(host string) bool {
	return c.Certificate.Leaf.VerifyHostname(host) == nil
}

// DefaultDir returns the folder where Ensure keeps the CA and the
// certificate by default: devserve/certs in the user's config dir
// (~/.config on Linux, ~/Library/Application Support on macOS,
// %AppData% on Windows).
func DefaultDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("devcert: no folder for the certificate: %w", err)
	}
	return filepath.Join(dir, "devserve", "certs"), nil
}

// Load reads a certificate and its private key from PEM files the user
// made, with mkcert or openssl, say. The errors say which file is wrong: a
// missing file, one that holds no certificate, a key that does not match.
// The two may be the same file.
func Load(certFile, keyFile string) (*Cert, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if _, err := parseCertPEM(certPEM); err != nil {
		return nil, fmt.Errorf("certificate %s: %w", certFile, err)
	}
	if _, err := parseKeyPEM(keyPEM); err != nil {
		return nil, fmt.Errorf("key %s: %w", keyFile, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("key %s does not match certificate %s: %w", keyFile, certFile, err)
	}
	if pair.Leaf == nil { // GODEBUG=x509keypairleaf=0
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", certFile, err)
		}
	}
	return &Cert{Certificate: pair}, nil
}

// Ensure returns a certificate for the loopback names and opts.Hosts,
// signed by mkcert's CA if there is one, else by devserve's own. It reuses
// the one in opts.Dir when it covers those names, is signed by that CA and
// is not within 30 days of its end; otherwise it makes a new one that
// covers the names of the old one too, so that projects served with
// different names do not replace each other's. A corrupt file is replaced
// and a note says so.
//
// Files are written whole under a temporary name and then renamed, and a
// file that is missing is created only if no one else created it
// meanwhile, else the other's is used: devserve runs started together end
// up with the same CA.
func Ensure(opts Options) (*Cert, error) {
	now := time.Now
	if opts.now != nil {
		now = opts.now
	}
	dir := opts.Dir
	if dir == "" {
		var err error
		if dir, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devcert: %w", err)
	}
	c := &Cert{File: filepath.Join(dir, CertFile)}
	ca, err := findCA(dir, opts, now(), c)
	if err != nil {
		return nil, err
	}
	dns, ips := hostNames(opts.Hosts)

	old, err := os.ReadFile(c.File)
	exists := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("devcert: %w", err)
	}
	if exists {
		pair, err := parsePair(old)
		switch why := unfit(pair, err, ca, dns, ips, now()); {
		case why == "":
			c.Certificate = pair
			return c, nil
		case err != nil:
			c.Notes = append(c.Notes, fmt.Sprintf("%s was not a usable certificate (%s): made a new one", c.File, why))
		default:
			c.Replaced = why
			// Keep covering what it covered.
			dns = union(dns, pair.Leaf.DNSNames)
			ips = unionIP(ips, pair.Leaf.IPAddresses)
		}
	}
	pemBytes, pair, err := makeCert(ca, dns, ips, now())
	if err != nil {
		return nil, err
	}
	c.Certificate, c.Created = pair, true
	if exists {
		return c, replaceFile(c.File, pemBytes, 0o600)
	}
	won, err := createFile(c.File, pemBytes, 0o600)
	if err != nil || won {
		return c, err
	}
	// Another run made it first: take its certificate if it fits.
	if other, err := os.ReadFile(c.File); err == nil {
		if pair, err := parsePair(other); unfit(pair, err, ca, dns, ips, now()) == "" {
			c.Certificate = pair
			return c, nil
		}
	}
	return c, replaceFile(c.File, pemBytes, 0o600)
}

// ca is a CA that signs the certificate.
type ca struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// unfit says why pair, parsed with err, is not to be served for dns and
// ips signed by ca at now; "" if it is fit.
func unfit(pair tls.Certificate, err error, ca *ca, dns []string, ips []net.IP, now time.Time) string {
	if err != nil {
		return err.Error()
	}
	leaf := pair.Leaf
	if now.Add(renewBefore).After(leaf.NotAfter) {
		return "ends on " + leaf.NotAfter.Format(time.DateOnly)
	}
	if now.Before(leaf.NotBefore) {
		return "starts in the future"
	}
	if leaf.CheckSignatureFrom(ca.cert) != nil {
		return "was signed by another CA"
	}
	for _, name := range dns {
		if leaf.VerifyHostname(name) != nil {
			return "does not cover " + name
		}
	}
	for _, ip := range ips {
		if leaf.VerifyHostname(ip.String()) != nil {
			return "does not cover " + ip.String()
		}
	}
	return ""
}

// findCA returns mkcert's CA if there is one and it can be used, else
// devserve's own CA in dir, which it makes or repairs when it must. It
// records what it did in c.
func findCA(dir string, opts Options, now time.Time, c *Cert) (*ca, error) {
	if root := mkcertRoot(opts); root != "" {
		certFile := filepath.Join(root, "rootCA.pem")
		keyFile := filepath.Join(root, "rootCA-key.pem")
		ca, err := loadMkcertCA(certFile, keyFile, now)
		switch {
		case err == nil:
			c.CAFile, c.Mkcert = certFile, true
			return ca, nil
		case !errors.Is(err, os.ErrNotExist):
			c.Notes = append(c.Notes, fmt.Sprintf("mkcert's CA in %s cannot sign (%v): using devserve's own CA", root, err))
		}
	}
	c.CAFile = filepath.Join(dir, CACertFile)
	ca, err := ownCA(dir, now, c)
	if err != nil {
		return nil, err
	}
	// The copy of the certificate alone, to import; rewritten when it is
	// not the CA's.
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
	if b, err := os.ReadFile(c.CAFile); err != nil || !bytes.Equal(b, certPEM) {
		if err := replaceFile(c.CAFile, certPEM, 0o644); err != nil {
			return nil, err
		}
	}
	return ca, nil
}

// mkcertRoot returns mkcert's CA folder, or "" when there is none to use.
func mkcertRoot(opts Options) string {
	switch {
	case opts.NoMkcert:
		return ""
	case opts.CARoot != "":
		return opts.CARoot
	case os.Getenv("CAROOT") != "":
		return os.Getenv("CAROOT")
	}
	path, err := exec.LookPath("mkcert")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-CAROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// loadMkcertCA reads mkcert's CA. An error that wraps os.ErrNotExist means
// that mkcert made none yet.
func loadMkcertCA(certFile, keyFile string, now time.Time) (*ca, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			// The CA of another machine, copied without its key.
			return nil, fmt.Errorf("%s has no key beside it", certFile)
		}
		return nil, err
	}
	return parseCA(certPEM, keyPEM, now)
}

// parseCA parses a CA certificate and key, and checks that they go
// together and that the CA is valid now and for 30 days more.
func parseCA(certPEM, keyPEM []byte, now time.Time) (*ca, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("the certificate is not a CA's")
	}
	if !publicKeyOf(key).Equal(cert.PublicKey) {
		return nil, errors.New("the key does not match the certificate")
	}
	if now.Add(renewBefore).After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return nil, fmt.Errorf("it is valid from %s to %s only", cert.NotBefore.Format(time.DateOnly), cert.NotAfter.Format(time.DateOnly))
	}
	return &ca{cert: cert, key: key.(crypto.Signer)}, nil
}

// ownCA returns devserve's CA from dir, made anew when it is missing,
// corrupt or near its end.
func ownCA(dir string, now time.Time, c *Cert) (*ca, error) {
	file := filepath.Join(dir, CAKeyFile)
	b, err := os.ReadFile(file)
	exists := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("devcert: %w", err)
	}
	if exists {
		ca, err := parseCA(b, b, now)
		if err == nil {
			return ca, nil
		}
		c.Notes = append(c.Notes, fmt.Sprintf("devserve's CA in %s was not usable (%v): made a new one, which browsers must be told to trust again", file, err))
	}
	pemBytes, ca, err := makeCA(now)
	if err != nil {
		return nil, err
	}
	c.NewCA = true
	if exists {
		return ca, replaceFile(file, pemBytes, 0o600)
	}
	won, err := createFile(file, pemBytes, 0o600)
	if err != nil || won {
		return ca, err
	}
	// Another run made it first: everyone uses that one.
	if b, err := os.ReadFile(file); err == nil {
		if other, err := parseCA(b, b, now); err == nil {
			return other, nil
		}
	}
	return ca, replaceFile(file, pemBytes, 0o600)
}

// makeCA makes a CA and returns it with its certificate and key in PEM.
func makeCA(now time.Time) ([]byte, *ca, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: CA key: %w", err)
	}
	name := "devserve development CA"
	if who := owner(); who != "" {
		name += " " + who
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject: pkix.Name{
			Organization: []string{"devserve development CA"},
			CommonName:   name,
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	out := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM...)
	return out, &ca{cert: cert, key: key}, nil
}

// makeCert makes a certificate for dns and ips signed by ca, and returns
// it in PEM with its key, and parsed.
func makeCert(ca *ca, dns []string, ips []net.IP, now time.Time) ([]byte, tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("devcert: key: %w", err)
	}
	org := "devserve development certificate"
	if who := owner(); who != "" {
		org += " " + who
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{org}, CommonName: dns[0]},
		DNSNames:     dns,
		IPAddresses:  ips,
		NotBefore:    now.Add(-backdate),
		// Never beyond the CA's end, which would make the chain invalid.
		NotAfter:    minTime(now.Add(certLifetime), ca.cert.NotAfter),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("devcert: certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	out := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM...)
	pair, err := parsePair(out)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("devcert: certificate: %w", err)
	}
	return out, pair, nil
}

// parsePair parses a certificate and its key from one PEM file.
func parsePair(b []byte) (tls.Certificate, error) {
	pair, err := tls.X509KeyPair(b, b)
	if err != nil {
		return pair, err
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return pair, err
		}
	}
	return pair, nil
}

// parseCertPEM returns the first certificate of a PEM file.
func parseCertPEM(b []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New(`no certificate in it (want PEM: "-----BEGIN CERTIFICATE-----")`)
		}
		if block.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate does not parse: %w", err)
			}
			return cert, nil
		}
	}
}

// parseKeyPEM returns the first private key of a PEM file: PKCS #8, EC or
// PKCS #1 (RSA).
func parseKeyPEM(b []byte) (any, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New(`no private key in it (want PEM: "-----BEGIN PRIVATE KEY-----")`)
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("private key does not parse: %w", err)
		}
		if publicKeyOf(key) == nil {
			return nil, fmt.Errorf("private key of type %T cannot sign", key)
		}
		return key, nil
	}
}

// publicKeyOf returns the public half of a private key, or nil.
func publicKeyOf(key any) interface{ Equal(crypto.PublicKey) bool } {
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil
	}
	pub, _ := s.Public().(interface{ Equal(crypto.PublicKey) bool })
	return pub
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("devcert: key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// serial returns a random serial number of 128 bits: a CA must not issue
// two certificates with one serial, and runs share no counter.
func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return n.Add(n, big.NewInt(1)) // positive
}

// owner names the user and machine, so that a CA in a trust store says
// whose it is.
func owner() string {
	who := ""
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		who += "@" + h
	}
	return strings.TrimPrefix(who, "@")
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// hostNames returns the DNS names and IP addresses a certificate for
// hosts must have: the loopback ones first, then those of hosts that can
// be in a certificate, each once.
func hostNames(hosts []string) ([]string, []net.IP) {
	dns := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		if i := strings.IndexByte(h, '%'); i >= 0 { // an IPv6 zone
			h = h[:i]
		}
		h = strings.TrimSuffix(h, ".")
		if ip := net.ParseIP(h); ip != nil {
			if ip4 := ip.To4(); ip4 != nil {
				ip = ip4
			}
			if !ip.IsUnspecified() {
				ips = unionIP(ips, []net.IP{ip})
			}
			continue
		}
		if validDNSName(h) {
			dns = union(dns, []string{h})
		}
	}
	return dns, ips
}

// validDNSName reports whether name can be a DNS name of a certificate:
// labels of letters, digits, '-' and '_', none empty.
func validDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func unionIP(a, b []net.IP) []net.IP {
	for _, ip := range b {
		if !slices.ContainsFunc(a, ip.Equal) {
			a = append(a, ip)
		}
	}
	return a
}

// createFile writes data to path unless path exists, and reports whether
// it did. The file appears whole or not at all: it is written under a
// temporary name and linked into place, which fails if another process
// made path meanwhile. Where hard links are not supported it is renamed
// into place.
func createFile(path string, data []byte, perm os.FileMode) (bool, error) {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	err = os.Link(tmp, path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrExist):
		return false, nil
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("devcert: %w", err)
	}
	return true, nil
}

// replaceFile writes data to path whole, through a temporary file that is
// renamed into place, so that a reader sees the old file or the new one.
func replaceFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("devcert: %w", err)
	}
	return nil
}

// writeTemp writes data to a new file beside path and returns its name.
func writeTemp(path string, data []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("devcert: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("devcert: write %s: %w", path, err)
	}
	return f.Name(), nil
}
