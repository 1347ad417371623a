package devcert

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// ensure is Ensure with devserve's own CA (never a real mkcert of this
// machine) unless opts say otherwise, failing the test on an error.
func ensure(t *testing.T, opts Options) *Cert {
	t.Helper()
	if opts.CARoot == "" {
		opts.NoMkcert = true
	}
	c, err := Ensure(opts)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return c
}

// verify checks that c chains to the CA in c.CAFile for each name, as a
// browser that trusts that CA would check it.
func verify(t *testing.T, c *Cert, names ...string) {
	t.Helper()
	b, err := os.ReadFile(c.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		t.Fatalf("%s holds no certificate", c.CAFile)
	}
	for _, name := range names {
		_, err := c.Certificate.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("certificate for %s: %v", name, err)
		}
	}
}

func serialOf(c *Cert) string { return c.Certificate.Leaf.SerialNumber.String() }

func TestEnsureNames(t *testing.T) {
	tests := []struct {
		name    string
		hosts   []string
		covers  []string
		notOf   []string
		dnsWant []string
	}{
		{"loopback only", nil, []string{"localhost", "127.0.0.1", "::1"}, []string{"example.com", "127.0.0.2"}, []string{"localhost"}},
		{"listen and allowed hosts", []string{"192.168.1.20", "dev.example.test", "Box.Local"},
			[]string{"localhost", "127.0.0.1", "::1", "192.168.1.20", "dev.example.test", "box.local"}, []string{"example.test"},
			[]string{"localhost", "dev.example.test", "box.local"}},
		{"ports, brackets, zones and trailing dots", []string{"[fe80::1%eth0]:8000", "app.test.:443", "10.0.0.1:80"},
			[]string{"fe80::1", "app.test", "10.0.0.1"}, nil, []string{"localhost", "app.test"}},
		{"what cannot be a name is left out", []string{"*", "0.0.0.0", "::", "", "bad name", "a..b", "localhost"},
			[]string{"localhost"}, []string{"0.0.0.0"}, []string{"localhost"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "certs")
			c := ensure(t, Options{Dir: dir, Hosts: tt.hosts})
			verify(t, c, tt.covers...)
			for _, n := range tt.notOf {
				if c.Covers(n) {
					t.Errorf("covers %s", n)
				}
			}
			if !slices.Equal(c.Certificate.Leaf.DNSNames, tt.dnsWant) {
				t.Errorf("DNS names %q, want %q", c.Certificate.Leaf.DNSNames, tt.dnsWant)
			}
			if !c.Created || !c.NewCA || c.Mkcert || len(c.Notes) != 0 {
				t.Errorf("first Ensure: %+v", c)
			}
			if c.File != filepath.Join(dir, CertFile) || c.CAFile != filepath.Join(dir, CACertFile) {
				t.Errorf("files %s, %s", c.File, c.CAFile)
			}
			for name, want := range map[string]os.FileMode{"": 0o700, CertFile: 0o600, CAKeyFile: 0o600, CACertFile: 0o644} {
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != want {
					t.Errorf("%s: mode %v, want %v", filepath.Join(dir, name), got, want)
				}
			}
			if b, _ := os.ReadFile(c.CAFile); strings.Contains(string(b), "PRIVATE KEY") {
				t.Errorf("%s, the file to import, holds the CA's key", c.CAFile)
			}
		})
	}
}

func TestEnsureReuse(t *testing.T) {
	dir := t.TempDir()
	first := ensure(t, Options{Dir: dir, Hosts: []string{"a.test", "10.1.2.3"}})
	ca, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))

	tests := []struct {
		name     string
		hosts    []string
		reused   bool
		covers   []string
		replaced string
	}{
		{"same names", []string{"a.test", "10.1.2.3"}, true, nil, ""},
		{"fewer names", []string{"a.test"}, true, nil, ""},
		{"loopback only", nil, true, nil, ""},
		{"a new name keeps the old ones", []string{"b.test"}, false, []string{"a.test", "10.1.2.3", "b.test", "localhost"}, "does not cover b.test"},
		{"then both are reused", []string{"a.test", "b.test"}, true, nil, ""},
	}
	prev := first
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ensure(t, Options{Dir: dir, Hosts: tt.hosts})
			if reused := serialOf(c) == serialOf(prev); reused != tt.reused || c.Created == tt.reused {
				t.Errorf("reused %v (Created %v), want %v", reused, c.Created, tt.reused)
			}
			if c.NewCA {
				t.Error("made a new CA")
			}
			if len(c.Notes) != 0 || !strings.Contains(c.Replaced, tt.replaced) || (c.Replaced == "") != (tt.replaced == "") {
				t.Errorf("notes %q, replaced %q; want no notes, replaced %q", c.Notes, c.Replaced, tt.replaced)
			}
			verify(t, c, tt.covers...)
			prev = c
		})
	}
	if b, _ := os.ReadFile(filepath.Join(dir, CAKeyFile)); string(b) != string(ca) {
		t.Error("the CA changed")
	}
}

func TestEnsureExpiry(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		madeAt   time.Time // when the first Ensure ran
		renew    bool
		newCA    bool
		noteHas  string
		replaced string
	}{
		{"young", now.Add(-100 * 24 * time.Hour), false, false, "", ""},
		{"ends within 30 days", now.Add(-370 * 24 * time.Hour), true, false, "", "ends on"},
		{"ended", now.Add(-400 * 24 * time.Hour), true, false, "", "ends on"},
		{"CA ends within 30 days", now.Add(-caLifetime + 20*24*time.Hour), true, true, "devserve's CA", "ends on"},
		{"made in the future (the clock went back)", now.Add(48 * time.Hour), true, true, "valid from", "starts in the future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			old := ensure(t, Options{Dir: dir, now: func() time.Time { return tt.madeAt }})
			c := ensure(t, Options{Dir: dir})
			if renewed := serialOf(c) != serialOf(old); renewed != tt.renew || c.NewCA != tt.newCA {
				t.Errorf("renewed %v, new CA %v; want %v, %v", renewed, c.NewCA, tt.renew, tt.newCA)
			}
			if tt.noteHas == "" && len(c.Notes) != 0 || tt.noteHas != "" && (len(c.Notes) != 1 || !strings.Contains(c.Notes[0], tt.noteHas)) {
				t.Errorf("notes %q, want one with %q", c.Notes, tt.noteHas)
			}
			if !strings.Contains(c.Replaced, tt.replaced) || (c.Replaced == "") != (tt.replaced == "") {
				t.Errorf("replaced %q, want %q", c.Replaced, tt.replaced)
			}
			if left := time.Until(c.Certificate.Leaf.NotAfter); left < renewBefore {
				t.Errorf("the certificate ends in %v", left)
			}
			verify(t, c, "localhost")
		})
	}
}

func TestEnsureCorrupt(t *testing.T) {
	other := ensure(t, Options{Dir: t.TempDir()}) // a certificate and key of another CA
	otherPEM, _ := os.ReadFile(other.File)
	_, otherKey, _ := strings.Cut(string(otherPEM), "-----BEGIN PRIVATE KEY")
	otherKey = "-----BEGIN PRIVATE KEY" + otherKey

	tests := []struct {
		name    string
		file    string
		content func(old string) string
		newCA   bool
	}{
		{"garbage certificate", CertFile, func(string) string { return "not a certificate" }, false},
		{"empty certificate", CertFile, func(string) string { return "" }, false},
		{"truncated certificate", CertFile, func(old string) string { return old[:len(old)/2] }, false},
		{"key of another certificate", CertFile, func(old string) string {
			c, _, _ := strings.Cut(old, "-----BEGIN PRIVATE KEY")
			return c + otherKey
		}, false},
		{"garbage CA", CAKeyFile, func(string) string { return "\x00\x01garbage" }, true},
		{"CA without its key", CAKeyFile, func(old string) string {
			c, _, _ := strings.Cut(old, "-----BEGIN PRIVATE KEY")
			return c
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			first := ensure(t, Options{Dir: dir})
			path := filepath.Join(dir, tt.file)
			old, _ := os.ReadFile(path)
			if err := os.WriteFile(path, []byte(tt.content(string(old))), 0o600); err != nil {
				t.Fatal(err)
			}
			c := ensure(t, Options{Dir: dir})
			if !c.Created || serialOf(c) == serialOf(first) || c.NewCA != tt.newCA {
				t.Errorf("Created %v, new CA %v (want %v), same serial %v", c.Created, c.NewCA, tt.newCA, serialOf(c) == serialOf(first))
			}
			if len(c.Notes) == 0 || !strings.Contains(c.Notes[0], path) || !strings.Contains(c.Notes[0], "made a new one") {
				t.Errorf("notes %q, want one that names %s", c.Notes, path)
			}
			verify(t, c, "localhost", "127.0.0.1")
			again := ensure(t, Options{Dir: dir})
			if again.Created || len(again.Notes) != 0 {
				t.Errorf("after the repair: Created %v, notes %q", again.Created, again.Notes)
			}
		})
	}
}

// TestEnsureConcurrent starts devserve runs together on an empty folder:
// they must all end up with the same CA and certificate, with no error and
// no temporary file left.
func TestEnsureConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	const n = 8
	certs := make([]*Cert, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { certs[i], errs[i] = Ensure(Options{Dir: dir, NoMkcert: true, Hosts: []string{"app.test"}}) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Ensure %d: %v", i, errs[i])
		}
		if len(certs[i].Notes) != 0 {
			t.Errorf("Ensure %d: notes %q", i, certs[i].Notes)
		}
		if serialOf(certs[i]) != serialOf(certs[0]) {
			t.Errorf("Ensure %d got another certificate than Ensure 0", i)
		}
		verify(t, certs[i], "app.test")
	}
	final := ensure(t, Options{Dir: dir, Hosts: []string{"app.test"}})
	if final.Created || serialOf(final) != serialOf(certs[0]) {
		t.Error("the stored certificate is not the one the runs serve")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{CACertFile, CAKeyFile, CertFile}; !slices.Equal(names, want) {
		t.Errorf("files %q, want %q", names, want)
	}
}

// makeMkcertRoot makes a CA as mkcert keeps it (RSA, rootCA.pem and
// rootCA-key.pem in PKCS #8) in a new folder, and returns the folder.
func makeMkcertRoot(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"mkcert development CA"}, CommonName: "mkcert test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "rootCA.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(root, "rootCA-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o400)
	return root
}

func TestEnsureMkcert(t *testing.T) {
	root := makeMkcertRoot(t)
	noKey := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(root, "rootCA.pem"))
	os.WriteFile(filepath.Join(noKey, "rootCA.pem"), b, 0o644)
	otherKey := makeMkcertRoot(t)
	os.WriteFile(filepath.Join(otherKey, "rootCA.pem"), b, 0o644) // the key of another CA

	tests := []struct {
		name    string
		opts    Options
		env     string // $CAROOT
		mkcert  bool
		noteHas string
	}{
		{"CARoot", Options{CARoot: root}, "", true, ""},
		{"$CAROOT", Options{}, root, true, ""},
		{"CARoot before $CAROOT", Options{CARoot: root}, t.TempDir(), true, ""},
		{"NoMkcert", Options{CARoot: root, NoMkcert: true}, "", false, ""},
		{"mkcert made no CA yet", Options{}, t.TempDir(), false, ""},
		{"CA without its key", Options{CARoot: noKey}, "", false, "has no key beside it"},
		{"key of another CA", Options{CARoot: otherKey}, "", false, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CAROOT", tt.env)
			dir := t.TempDir()
			tt.opts.Dir = dir
			tt.opts.Hosts = []string{"app.test"}
			c, err := Ensure(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if c.Mkcert != tt.mkcert {
				t.Fatalf("Mkcert = %v, want %v", c.Mkcert, tt.mkcert)
			}
			if tt.noteHas == "" && len(c.Notes) != 0 || tt.noteHas != "" && (len(c.Notes) != 1 || !strings.Contains(c.Notes[0], tt.noteHas)) {
				t.Errorf("notes %q, want one with %q", c.Notes, tt.noteHas)
			}
			_, err = os.Stat(filepath.Join(dir, CAKeyFile))
			if tt.mkcert {
				if c.CAFile != filepath.Join(root, "rootCA.pem") || c.NewCA || err == nil {
					t.Errorf("with mkcert's CA: CAFile %s, NewCA %v, own CA made: %v", c.CAFile, c.NewCA, err == nil)
				}
			} else if err != nil {
				t.Errorf("no CA of devserve's own: %v", err)
			}
			verify(t, c, "localhost", "127.0.0.1", "app.test")
		})
	}

	// A certificate of devserve's own CA is replaced once mkcert has a CA,
	// which the user's browsers trust after `mkcert -install`.
	dir := t.TempDir()
	if own := ensure(t, Options{Dir: dir}); own.Mkcert {
		t.Fatal("NoMkcert used mkcert's CA")
	}
	c := ensure(t, Options{Dir: dir, CARoot: root})
	if !c.Mkcert || !c.Created || len(c.Notes) != 0 || c.Replaced != "was signed by another CA" {
		t.Errorf("after mkcert -install: Mkcert %v, Created %v, notes %q, replaced %q", c.Mkcert, c.Created, c.Notes, c.Replaced)
	}
	if again := ensure(t, Options{Dir: dir, CARoot: root}); again.Created || serialOf(again) != serialOf(c) {
		t.Error("the certificate of mkcert's CA is not reused")
	}
}

func TestLoad(t *testing.T) {
	c := ensure(t, Options{Dir: t.TempDir()})
	pair, _ := os.ReadFile(c.File)
	certPEM, keyPEM, _ := strings.Cut(string(pair), "-----BEGIN PRIVATE KEY")
	keyPEM = "-----BEGIN PRIVATE KEY" + keyPEM
	other := ensure(t, Options{Dir: t.TempDir()})
	otherPair, _ := os.ReadFile(other.File)
	_, otherKey, _ := strings.Cut(string(otherPair), "-----BEGIN PRIVATE KEY")
	otherKey = "-----BEGIN PRIVATE KEY" + otherKey

	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	cert := write("cert.pem", certPEM)
	key := write("key.pem", keyPEM)
	both := write("both.pem", string(pair))
	wrongKey := write("other-key.pem", otherKey)
	notPEM := write("cert.der", "\x30\x82garbage")
	badCert := write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name      string
		cert, key string
		want      []string // substrings of the error; none: no error
	}{
		{"pair", cert, key, nil},
		{"one file", both, both, nil},
		{"missing certificate", missing, key, []string{"read certificate", missing, "no such file"}},
		{"missing key", cert, missing, []string{"read key", missing}},
		{"certificate not PEM", notPEM, key, []string{"certificate " + notPEM, "no certificate in it"}},
		{"certificate does not parse", badCert, key, []string{"certificate " + badCert, "does not parse"}},
		{"key is a certificate", cert, cert, []string{"key " + cert, "no private key in it"}},
		{"key of another certificate", cert, wrongKey, []string{"key " + wrongKey + " does not match certificate " + cert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.cert, tt.key)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !got.Covers("localhost") || got.File != "" || got.CAFile != "" {
					t.Errorf("Load: %+v", got)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
		})
	}
}
