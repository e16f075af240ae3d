package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Generated certificates are valid for CertValidity and replaced at start-up
// once less than CertRenewBefore remains.
const (
	CertValidity    = 397 * 24 * time.Hour
	CertRenewBefore = 30 * 24 * time.Hour
)

// Names are the host names and addresses a certificate must cover.
type Names struct {
	DNS []string
	IPs []net.IP
}

// BoxNames returns the names the box is reached by: its host name, the same
// with .local (mDNS), localhost, and every address of its interfaces.
func BoxNames() Names {
	var n Names
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		h = strings.ToLower(h)
		n.DNS = append(n.DNS, h)
		if !strings.Contains(h, ".") {
			n.DNS = append(n.DNS, h+".local")
		}
	}
	n.DNS = append(n.DNS, "localhost")
	n.IPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
				n.IPs = append(n.IPs, ipn.IP)
			}
		}
	}
	return n
}

// LoadOrCreateCert returns the self-signed certificate kept in dir
// (cert.pem, key.pem 0600). It makes a new one when there is none, when it
// expires within CertRenewBefore, or when it does not cover names.
func LoadOrCreateCert(dir string, names Names, now time.Time) (cert tls.Certificate, created bool, err error) {
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && usable(c.Leaf, names, now) {
		return c, false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("create %s: %w", dir, err)
	}
	certPEM, keyPEM, err := newSelfSigned(names, now)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFileAtomic(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, false, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("load generated certificate: %w", err)
	}
	return c, true, nil
}

func usable(leaf *x509.Certificate, names Names, now time.Time) bool {
	if leaf == nil || now.Before(leaf.NotBefore) || leaf.NotAfter.Sub(now) < CertRenewBefore {
		return false
	}
	for _, d := range names.DNS {
		if !slices.Contains(leaf.DNSNames, d) {
			return false
		}
	}
	for _, ip := range names.IPs {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

func newSelfSigned(names Names, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	cn := "punchbox"
	if len(names.DNS) > 0 {
		cn = names.DNS[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"punchbox"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names.DNS,
		IPAddresses:           names.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// Fingerprint returns the SHA-256 fingerprint of a certificate's leaf, in the
// colon-separated form browsers show, so an admin can compare it.
func Fingerprint(c tls.Certificate) string {
	if len(c.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(c.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b bytes.Buffer
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it into place, so a power cut leaves the old file or the new one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // the rename itself survives a power cut
		d.Close()
	}
	return nil
}
