package x1

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"sync"
	"time"
)

// Path is where the X1 endpoint is served (as sipgate's NE simulator has it).
const Path = "/X1/NE"

// ServerConfig configures the X1 HTTP(S) endpoint.
type ServerConfig struct {
	// Addr is the listen address, e.g. "127.0.0.1:8443" (":0" for tests).
	Addr string
	// Insecure serves plain HTTP without client authentication. Only for
	// tests and demos; a warning is logged.
	Insecure bool
	// CertFile and KeyFile are the server's certificate chain and key (PEM);
	// ClientCAFile holds the CA certificates that client certificates must
	// chain to (mutual TLS is always required unless Insecure).
	CertFile, KeyFile, ClientCAFile string
	// TLSConfig, when set, is used instead of the files (tests). It must
	// require and verify client certificates itself.
	TLSConfig *tls.Config
	// MaxBody bounds the request body (default and maximum MaxDocumentSize).
	MaxBody int64
	// Timeouts; defaults 10 s read, 10 s write, 60 s idle, 5 s header.
	ReadTimeout, WriteTimeout, IdleTimeout, ReadHeaderTimeout time.Duration
	// NEIdentifier is written in top-level errors the server produces
	// itself (oversized bodies); default the registry's.
	NEIdentifier string
	// KeepaliveTimeout, when > 0, makes the NE watch the ADMF's
	// KeepaliveRequests: once one has been received, a gap longer than this
	// is logged as a warning and audited (KeepaliveMissed), once per gap.
	KeepaliveTimeout time.Duration
}

// Server is the X1 endpoint of an NE: HTTP POST of X1 documents at Path,
// over TLS with mutual authentication.
type Server struct {
	cfg  ServerConfig
	reg  *Registry
	log  *slog.Logger
	tls  *tls.Config
	http *http.Server

	mu       sync.Mutex
	ln       net.Listener
	ready    chan struct{}
	readyErr error
	once     sync.Once
}

// NewServer checks cfg, loads the TLS material and returns a server that
// is not yet listening.
func NewServer(cfg ServerConfig, reg *Registry, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 || cfg.MaxBody > MaxDocumentSize {
		cfg.MaxBody = MaxDocumentSize
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadTimeout, 10*time.Second)
	def(&cfg.WriteTimeout, 10*time.Second)
	def(&cfg.IdleTimeout, 60*time.Second)
	def(&cfg.ReadHeaderTimeout, 5*time.Second)
	if cfg.NEIdentifier == "" {
		cfg.NEIdentifier = reg.NEIdentifier()
	}
	s := &Server{cfg: cfg, reg: reg, log: logger, ready: make(chan struct{})}
	switch {
	case cfg.Insecure:
	case cfg.TLSConfig != nil:
		s.tls = cfg.TLSConfig.Clone()
		if s.tls.ClientAuth != tls.RequireAndVerifyClientCert {
			return nil, errors.New("x1: server: TLSConfig must require and verify client certificates")
		}
	default:
		t, err := ServerTLSConfig(cfg.CertFile, cfg.KeyFile, cfg.ClientCAFile)
		if err != nil {
			return nil, err
		}
		s.tls = t
	}
	mux := http.NewServeMux()
	mux.HandleFunc(Path, s.serveX1)
	s.http = &http.Server{
		Handler:           mux,
		TLSConfig:         s.tls,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(&httpErrorLog{s: s}, "", 0),
	}
	return s, nil
}

// ServerTLSConfig builds the mutual-TLS configuration of an X1 server: TLS
// 1.2 or later, the server certificate from certFile/keyFile, and client
// certificates required and verified against the CAs in clientCAFile.
func ServerTLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" || clientCAFile == "" {
		return nil, errors.New("x1: server TLS: a certificate, its key and a client CA are required (or run insecure)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("x1: server TLS: %w", err)
	}
	pool, err := loadPool(clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("x1: server TLS: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
}

// ClientTLSConfig builds the TLS configuration of an X1 client: the
// server is verified against caFile, and certFile/keyFile (if given) are
// presented as the client certificate.
func ClientTLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := loadPool(caFile)
		if err != nil {
			return nil, fmt.Errorf("x1: client TLS: %w", err)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("x1: client TLS: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificates", file)
	}
	return pool, nil
}

// Listen binds cfg.Addr (Serve calls it if it has not been called).
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		err = fmt.Errorf("x1: listen %s: %w", s.cfg.Addr, err)
		s.setReady(err)
		return err
	}
	s.ln = ln
	s.setReady(nil)
	return nil
}

func (s *Server) setReady(err error) {
	s.once.Do(func() {
		s.readyErr = err
		close(s.ready)
	})
}

// Addr returns the address the server listens on; it waits until Listen
// (or Serve) has bound it, and returns nil if that failed.
func (s *Server) Addr() net.Addr {
	<-s.ready
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL is the endpoint's URL (https://ADDR/X1/NE, or http:// when insecure).
func (s *Server) URL() string {
	a := s.Addr()
	if a == nil {
		return ""
	}
	scheme := "https"
	if s.cfg.Insecure {
		scheme = "http"
	}
	return scheme + "://" + a.String() + Path
}

// Serve serves X1 until ctx is done, then shuts down gracefully (requests
// in flight get up to 5 s to finish).
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	ln := s.ln
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
		s.log.Info("X1 endpoint listening (mutual TLS)", "addr", s.ln.Addr().String(), "path", Path)
	} else {
		s.log.Warn("X1 endpoint listening WITHOUT TLS or client authentication (--x1-insecure): for tests and demos only",
			"addr", s.ln.Addr().String(), "path", Path)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	if s.cfg.KeepaliveTimeout > 0 {
		go s.watchKeepalive(ctx)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("x1: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		_ = s.http.Close()
		return fmt.Errorf("x1: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("x1: serve: %w", err)
	}
	s.log.Info("X1 endpoint stopped")
	return nil
}

// principal names who sent r: the verified client certificate's subject,
// or the remote address when insecure.
func principal(r *http.Request) string {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return r.TLS.PeerCertificates[0].Subject.String()
	}
	return "insecure:" + r.RemoteAddr
}

func (s *Server) serveX1(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "X1 takes POST", http.StatusMethodNotAllowed)
		return
	}
	who := principal(r)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		status := http.StatusBadRequest
		reason := "reading the request body: " + err.Error()
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
			reason = fmt.Sprintf("document larger than %d bytes", s.cfg.MaxBody)
		}
		s.write(w, status, s.reg.HandleTopLevelError(who, reason))
		return
	}
	resp, status := s.reg.Handle(r.Context(), who, body)
	s.write(w, status, resp)
}

func (s *Server) write(w http.ResponseWriter, status int, doc []byte) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	if _, err := w.Write(doc); err != nil {
		s.log.Debug("X1 response not delivered", "err", err)
	}
}

func (s *Server) watchKeepalive(ctx context.Context) {
	period := s.cfg.KeepaliveTimeout / 4
	if period < 10*time.Millisecond {
		period = 10 * time.Millisecond
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	var reported time.Time // the keepalive whose gap was reported
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			last := s.reg.LastKeepalive()
			if last.IsZero() || last.Equal(reported) || now.Sub(last) <= s.cfg.KeepaliveTimeout {
				continue
			}
			reported = last
			s.log.Warn("X1: no Keepalive from the ADMF within the configured period; tasks stay active",
				"last", last.UTC().Format(time.RFC3339), "timeout", s.cfg.KeepaliveTimeout.String())
			if err := RecordAudit(s.reg.db, AuditRecord{Principal: "system", Operation: AuditKeepaliveMissed,
				Result: "error", Description: "last Keepalive " + FormatTimestamp(last)}); err != nil {
				s.log.Error("X1 audit failed", "err", err)
			}
		}
	}
}

// httpErrorLog receives net/http's error log: TLS handshake failures (a
// client without a certificate, or with one from another CA) are audited
// as refused connections; everything is logged.
type httpErrorLog struct{ s *Server }

var reHandshake = regexp.MustCompile(`^http: TLS handshake error from (\S+): (.*)$`)

func (l *httpErrorLog) Write(p []byte) (int, error) {
	msg := string(bytes.TrimSpace(p))
	if m := reHandshake.FindStringSubmatch(msg); m != nil {
		l.s.log.Warn("X1 connection refused by TLS", "remote", m[1], "err", m[2])
		if err := RecordAudit(l.s.reg.db, AuditRecord{Principal: "tls:" + m[1], Operation: AuditTLSRefused,
			Result: "error", Description: truncate(m[2])}); err != nil {
			l.s.log.Error("X1 audit failed", "err", err)
		}
		return len(p), nil
	}
	l.s.log.Warn("X1 HTTP server", "msg", msg)
	return len(p), nil
}
