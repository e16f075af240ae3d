package central

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// backfillKey is the setting that holds the back-fill rate.
const backfillKey = "uplink.backfill_rate"

// Options configure the link.
type Options struct {
	URL        string // tcp://host:1883 or tls://host:8883 (mqtt://, ssl://, mqtts:// too)
	Username   string
	Password   string
	CAFile     string // PEM bundle for the broker's certificate; "" = system roots
	CertFile   string // client certificate for mutual TLS
	KeyFile    string
	ServerName string // name expected in the broker's certificate; "" = the URL's host
	ClientID   string // "" = punchbox-<site>-<box>

	Site, Box string
	Version   string    // of this punchbox, for the birth message
	Started   time.Time // process start, for the birth message
	DataDir   string    // watched for free space (disk-low events); "" = not watched

	KeepAlive    time.Duration // default 30 s
	BatchSize    int           // punches per message; default 500
	Window       int           // batches in flight; default 8
	BackfillRate float64       // punches/s for the back-fill; 0 = unlimited
	CentralAck   bool          // delivered only on central's ack

	ConnectTimeout time.Duration // default 10 s
	MinBackoff     time.Duration // reconnect backoff, default 1 s
	MaxBackoff     time.Duration // default 2 min
	AckFlush       time.Duration // how often acknowledgements are written to the store; default 50 ms
	// CentralAckWait is how long, in end-to-end mode, batches may wait
	// for central's ack before the link starts over and sends them again;
	// default 1 min.
	CentralAckWait time.Duration
}

func (o *Options) defaults() {
	if o.ClientID == "" {
		o.ClientID = "punchbox-" + o.Site + "-" + o.Box
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = 30 * time.Second
	}
	if o.BatchSize == 0 {
		o.BatchSize = 500
	}
	if o.Window == 0 {
		o.Window = 8
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 2 * time.Minute
	}
	if o.AckFlush == 0 {
		o.AckFlush = 50 * time.Millisecond
	}
	if o.CentralAckWait == 0 {
		o.CentralAckWait = time.Minute
	}
	if o.Started.IsZero() {
		o.Started = time.Now()
	}
}

func (o *Options) validate() error {
	var errs []error
	if !punchbox.ValidName(o.Site) || !punchbox.ValidName(o.Box) {
		errs = append(errs, fmt.Errorf("site %q and box %q: want a-z, 0-9 and '-'", o.Site, o.Box))
	}
	if _, err := o.brokerURL(); err != nil {
		errs = append(errs, err)
	}
	if o.BatchSize < 1 || o.Window < 1 {
		errs = append(errs, errors.New("batch size and window must be positive"))
	}
	if _, err := store.SettingDefs.Validate(backfillKey, o.BackfillRate); err != nil {
		errs = append(errs, fmt.Errorf("back-fill rate %g: %w", o.BackfillRate, err))
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		errs = append(errs, errors.New("client certificate and key go together"))
	}
	return errors.Join(errs...)
}

// brokerURL returns the URL in the form paho takes and whether it is TLS.
func (o *Options) brokerURL() (string, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("broker url %q: want tls://host:8883 or tcp://host:1883", o.URL)
	}
	switch u.Scheme {
	case "tcp", "mqtt":
		if u.Port() == "" {
			u.Host += ":1883"
		}
		return "tcp://" + u.Host, nil
	case "tls", "ssl", "mqtts":
		if u.Port() == "" {
			u.Host += ":8883"
		}
		return "ssl://" + u.Host, nil
	}
	return "", fmt.Errorf("broker url %q: scheme %q is not tcp:// or tls://", o.URL, u.Scheme)
}

// tlsConfig builds the TLS configuration, reading the files now (at
// connect, not at construction).
func (o *Options) tlsConfig() (*tls.Config, error) {
	u, _ := o.brokerURL()
	if !strings.HasPrefix(u, "ssl://") {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if cfg.ServerName == "" {
		pu, _ := url.Parse(o.URL)
		cfg.ServerName = pu.Hostname()
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Topic returns the full topic of a sub-topic, e.g. "punches" →
// "punchbox/v1/acme/box-01/punches".
func (o *Options) Topic(sub string) string {
	return "punchbox/v1/" + o.Site + "/" + o.Box + "/" + sub
}
