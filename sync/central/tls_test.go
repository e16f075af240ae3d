package central

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store/storetest"
)

// pki is a test CA with a server certificate for "broker.test" and a
// client certificate, written as PEM files.
type pki struct {
	dir                           string
	ca                            *x509.Certificate
	caKey                         *ecdsa.PrivateKey
	caFile, clientCert, clientKey string
	server                        tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	p.caKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "punchbox test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.caKey.PublicKey, p.caKey)
	p.ca, _ = x509.ParseCertificate(der)
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", der)
	sDER, sKey := p.issue(t, 2, "broker.test", x509.ExtKeyUsageServerAuth)
	p.server = tls.Certificate{Certificate: [][]byte{sDER}, PrivateKey: sKey}
	cDER, cKey := p.issue(t, 3, "acme-box-01", x509.ExtKeyUsageClientAuth)
	p.clientCert = p.write(t, "client.pem", "CERTIFICATE", cDER)
	kb, _ := x509.MarshalPKCS8PrivateKey(cKey)
	p.clientKey = p.write(t, "client.key", "PRIVATE KEY", kb)
	return p
}

func (p *pki) issue(t *testing.T, serial int64, name string, use x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		ExtKeyUsage: []x509.ExtKeyUsage{use}, KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsBroker runs an embedded broker that requires TLS with a client
// certificate from the test CA.
func tlsBroker(t *testing.T, p *pki) string {
	t.Helper()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	s := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.AddHook(new(auth.AllowHook), nil)
	cfg := &tls.Config{Certificates: []tls.Certificate{p.server}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	if err := s.AddListener(listeners.NewTCP(listeners.Config{ID: "tls", Address: addr, TLSConfig: cfg})); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return addr
}

func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	addr := tlsBroker(t, p)
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name   string
		modify func(o *Options)
		ok     bool
		want   string
	}{
		{"CA, client certificate and server name", func(o *Options) {}, true, ""},
		{"wrong server name", func(o *Options) { o.ServerName = "other.test" }, false, "certificate is valid for broker.test"},
		{"no client certificate", func(o *Options) { o.CertFile, o.KeyFile = "", "" }, false, ""},
		{"system roots only", func(o *Options) { o.CAFile = "" }, false, "certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions("tls://127.0.0.1:" + port)
			o.CAFile, o.CertFile, o.KeyFile, o.ServerName = p.caFile, p.clientCert, p.clientKey, "broker.test"
			o.MaxBackoff = 50 * time.Millisecond
			tt.modify(&o)
			b := startBox(t, storetest.Open(t), o)
			eventually.OK(t, func() string {
				st := b.link.State()
				if (tt.ok && st.Connected) || (!tt.ok && st.LastError != "") {
					return ""
				}
				return fmt.Sprintf("state %+v", st)
			})
			if st := b.link.State(); !tt.ok && (!strings.Contains(st.LastError, tt.want) || st.Connected) {
				t.Errorf("state %+v: want not connected, an error with %q", st, tt.want)
			}
		})
	}
}
