package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ShutdownBudget is how long Run waits for requests in flight once its
// context ends. It stays well under the service's 5 s stop budget.
const ShutdownBudget = 3 * time.Second

// Options configures the listener.
type Options struct {
	Listen       string // host:port
	InsecureHTTP bool   // plain HTTP instead of HTTPS
	CertFile     string // operator-provided certificate, PEM; "" = generated
	KeyFile      string
	CertDir      string // where a generated certificate is kept
	// Plain serves plain-HTTP requests that arrive at the HTTPS port:
	// normally a redirect to HTTPS (see Panel.PlainHandler). nil: a
	// redirect to the same host and path over HTTPS.
	Plain http.Handler

	// Bounds on stalled clients; zero keeps DefaultHeaderTimeout,
	// DefaultBodyGrace, DefaultBodyRate and DefaultWriteIdle.
	HeaderTimeout time.Duration // headers and TLS handshake, in all
	BodyGrace     time.Duration // a request body may take this long before
	BodyRate      int64         // it must keep up this many bytes a second
	WriteIdle     time.Duration // one write of a response may block this long
}

// Server is the panel's listener. New does no I/O; Listen binds.
type Server struct {
	opts    Options
	handler http.Handler
	log     *slog.Logger
	ln      net.Listener // the bound port
	tls     *tls.Config  // nil for plain HTTP
	serving atomic.Bool
}

// New returns a Server for h. Call Listen, then Run.
func New(opts Options, h http.Handler, log *slog.Logger) *Server {
	return &Server{opts: opts, handler: h, log: log}
}

// Listen binds the listen address and, for HTTPS, loads the operator's
// certificate or loads (creating it on first start) a self-signed one.
func (s *Server) Listen() error {
	var cfg *tls.Config
	if !s.opts.InsecureHTTP {
		cert, err := s.certificate()
		if err != nil {
			return err
		}
		cfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.opts.Listen, err)
	}
	s.ln, s.tls = ln, cfg
	return nil
}

func (s *Server) certificate() (tls.Certificate, error) {
	if s.opts.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.opts.CertFile, s.opts.KeyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("load certificate %s: %w", s.opts.CertFile, err)
		}
		return cert, nil
	}
	cert, created, err := LoadOrCreateCert(s.opts.CertDir, BoxNames(), time.Now())
	if err != nil {
		return tls.Certificate{}, err
	}
	if created {
		s.log.Info("generated a self-signed panel certificate", "dir", s.opts.CertDir, "names", cert.Leaf.DNSNames, "addresses", cert.Leaf.IPAddresses, "sha256", Fingerprint(cert))
	}
	return cert, nil
}

// URL returns the base URL the listener answers on.
func (s *Server) URL() string {
	scheme := "https"
	if s.opts.InsecureHTTP {
		scheme = "http"
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	host := "localhost"
	if !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

// Run serves until ctx ends, then shuts down gracefully. It returns nil after
// a clean shutdown and an error if serving fails. With TLS, connections
// that start with anything but a TLS handshake are plain HTTP and go to
// Options.Plain, so that http://box:8443/ still leads somewhere.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("web: Run before Listen")
	}
	base := func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	// Browsers that have not accepted the self-signed certificate abort
	// handshakes all day; keep that out of the journal.
	errLog := slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	// Every client is bounded: headers by ReadHeaderTimeout, bodies and
	// response writes by the stall guard (there is no ReadTimeout or
	// WriteTimeout: a big restore or export may take as long as it keeps
	// moving).
	headers := s.opts.HeaderTimeout
	if headers <= 0 {
		headers = DefaultHeaderTimeout
	}
	bounds := s.opts.stallBounds()
	main := &http.Server{
		Handler:           stallGuard{s.handler, bounds},
		ReadHeaderTimeout: headers,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
		BaseContext:       base,
	}
	servers := []*http.Server{main}
	var listeners []net.Listener
	var sp *splitter
	if s.tls == nil {
		listeners = []net.Listener{s.ln}
	} else {
		plain := s.opts.Plain
		if plain == nil {
			plain = http.HandlerFunc(redirectToHTTPS)
		}
		redirect := &http.Server{Handler: stallGuard{plain, bounds}, ReadHeaderTimeout: headers, IdleTimeout: 10 * time.Second,
			MaxHeaderBytes: 16 << 10, ErrorLog: errLog, BaseContext: base}
		servers = append(servers, redirect)
		sp = newSplitter(s.ln, s.tls)
		listeners = []net.Listener{sp.tls, sp.plain}
	}
	errc := make(chan error, len(servers)+1)
	var wg sync.WaitGroup
	if sp != nil {
		wg.Go(func() { errc <- sp.run() })
	}
	for i, srv := range servers {
		wg.Go(func() { errc <- srv.Serve(listeners[i]) })
	}
	s.serving.Store(true)
	var failed error
	select {
	case failed = <-errc:
		failed = fmt.Errorf("serve %s: %w", s.opts.Listen, failed)
	case <-ctx.Done():
	}
	s.serving.Store(false)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownBudget)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		err := srv.Shutdown(sctx)
		if errors.Is(err, context.DeadlineExceeded) {
			s.log.Warn("requests still running at shutdown; closing them", "budget", ShutdownBudget)
			err = srv.Close()
		}
		errs = append(errs, err)
	}
	if sp != nil {
		sp.close()
	} else {
		s.ln.Close()
	}
	wg.Wait() // Serve and the splitter have returned
	if failed != nil {
		return failed
	}
	return errors.Join(errs...)
}

// redirectToHTTPS sends a plain-HTTP request to the same host and path
// over HTTPS.
func redirectToHTTPS(w http.ResponseWriter, r *http.Request) {
	if r.Host == "" {
		http.Error(w, "no Host header", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusTemporaryRedirect)
}

// Healthy reports whether the listener is serving.
func (s *Server) Healthy(context.Context) error {
	if !s.serving.Load() {
		return errors.New("web: not serving")
	}
	return nil
}
