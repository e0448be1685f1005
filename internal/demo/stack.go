package demo

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"rcds/capture"
	"rcds/decoder"
	"rcds/decoder/msnp"
	"rcds/hi"
	"rcds/internal/metrics"
	"rcds/store"
	"rcds/x1"
	"rcds/x2x3"
)

// StackConfig configures a Stack: the components of `rcds serve` (X1
// endpoint and registry, POI, MDF) in one process, with X2/X3 handed from
// the POI to the MDF in-process.
type StackConfig struct {
	// Dir is the data directory (the bbolt file).
	Dir string
	// X1Listen is the X1 endpoint's address (default 127.0.0.1:0).
	X1Listen string
	// X1TLS is the X1 server's mutual-TLS configuration (required).
	X1TLS *tls.Config
	// NEID is the NE identifier (X1 and networkElementIdentifier).
	NEID string
	// MDF is the mediation configuration (identity, destinations, timings);
	// OperatorID, CountryCode and NetworkElementID default to demo values.
	MDF hi.MDFConfig
	// Capture bounds the capture engine (Logger is set from Logger).
	Capture capture.Config
	// POI configures the target matching.
	POI x2x3.POIConfig
	// Logger receives the components' logs (nil: discard).
	Logger *slog.Logger
	// Observe, when set, sees every decoded event just before the POI
	// does, on the capture goroutine (tests and benchmarks: it must not
	// keep the event).
	Observe func(*decoder.Event)
}

// Stack is a running set of serve's components.
type Stack struct {
	DB       *store.DB
	Registry *x1.Registry
	X1       *x1.Server
	MDF      *hi.MDF
	POI      *x2x3.POI
	MSNP     *msnp.Protocol
	Mux      *decoder.Mux
	Engine   *capture.Engine

	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errMu  sync.Mutex
	errs   []error
	closed bool
}

// StartStack opens the store, the registry and the MDF, binds the X1
// endpoint and starts serving X1 and delivering to the LEMFs until Close.
func StartStack(ctx context.Context, cfg StackConfig) (_ *Stack, err error) {
	if cfg.X1TLS == nil {
		return nil, errors.New("demo: stack: X1 needs a mutual-TLS configuration")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.X1Listen == "" {
		cfg.X1Listen = "127.0.0.1:0"
	}
	if cfg.NEID == "" {
		cfg.NEID = "rcds-demo"
	}
	if cfg.MDF.OperatorID == "" {
		cfg.MDF.OperatorID = "DEMO"
	}
	if cfg.MDF.CountryCode == "" {
		cfg.MDF.CountryCode = "XX"
	}
	if cfg.MDF.NetworkElementID == "" {
		cfg.MDF.NetworkElementID = cfg.NEID
	}
	s := &Stack{log: log}
	if s.DB, err = store.Open(cfg.Dir); err != nil {
		return nil, fmt.Errorf("demo: stack: %w", err)
	}
	defer func() {
		if err != nil {
			s.DB.Close()
		}
	}()
	if s.Registry, err = x1.OpenRegistry(s.DB, log.With("component", "x1"), x1.WithNEIdentifier(cfg.NEID)); err != nil {
		return nil, fmt.Errorf("demo: stack: %w", err)
	}
	s.X1, err = x1.NewServer(x1.ServerConfig{Addr: cfg.X1Listen, TLSConfig: cfg.X1TLS, NEIdentifier: cfg.NEID},
		s.Registry, log.With("component", "x1"))
	if err != nil {
		return nil, fmt.Errorf("demo: stack: %w", err)
	}
	if err = s.X1.Listen(); err != nil {
		return nil, fmt.Errorf("demo: stack: %w", err)
	}
	if s.MDF, err = hi.NewMDF(cfg.MDF, s.Registry, s.DB, log.With("component", "mdf")); err != nil {
		return nil, fmt.Errorf("demo: stack: %w", err)
	}
	s.POI = x2x3.NewPOI(cfg.POI, s.Registry, s.MDF, log.With("component", "poi"))
	s.MSNP = msnp.New(log.With("component", "msnp"), msnp.Options{})
	var emit decoder.Emitter = s.POI
	if cfg.Observe != nil {
		emit = decoder.EmitterFunc(func(e *decoder.Event) {
			cfg.Observe(e)
			s.POI.Emit(e)
		})
	}
	s.Mux = decoder.NewMux(log.With("component", "decoder"), emit, s.MSNP)
	ccfg := cfg.Capture
	ccfg.Logger = log.With("component", "capture")
	s.Engine = capture.NewEngine(ccfg, s.Mux)

	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.goRun("x1", func() error { return s.X1.Serve(rctx) })
	s.goRun("mdf", func() error { return s.MDF.Run(rctx) })
	return s, nil
}

func (s *Stack) goRun(name string, fn func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := fn(); err != nil {
			s.log.Error("component stopped", "component", name, "err", err)
			s.errMu.Lock()
			s.errs = append(s.errs, fmt.Errorf("%s: %w", name, err))
			s.errMu.Unlock()
		}
	}()
}

// X1URL is the X1 endpoint's URL.
func (s *Stack) X1URL() string { return s.X1.URL() }

// Replay runs the capture engine over src until it ends (or ctx does) and
// then flushes the POI's output into the MDF's queues on disk.
func (s *Stack) Replay(ctx context.Context, src capture.Source) error {
	if err := s.Engine.Run(ctx, src); err != nil {
		return fmt.Errorf("demo: replay: %w", err)
	}
	return s.Flush(ctx)
}

// Flush returns once every PDU the POI produced so far is committed to the
// MDF's queues on disk.
func (s *Stack) Flush(ctx context.Context) error {
	if err := s.POI.Flush(ctx); err != nil {
		return fmt.Errorf("demo: flush: %w", err)
	}
	return nil
}

// Drained reports whether every destination has had all its queued records
// confirmed by its LEMF (and at least one record was queued).
func (s *Stack) Drained() bool {
	st := s.MDF.Stats()
	if st.Records == 0 {
		return false
	}
	for _, d := range st.Destinations {
		if d.Queue.Records != 0 || d.Confirmed < d.Queued {
			return false
		}
	}
	return true
}

// WaitDrained polls Drained until it holds or ctx ends.
func (s *Stack) WaitDrained(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !s.Drained() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("demo: waiting for the LEMF to confirm every record: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Metrics returns the sources of a metrics.Collector over the stack.
func (s *Stack) Metrics() metrics.Sources {
	return metrics.Sources{
		Capture: s.Engine.Stats,
		Decoder: s.Mux.Stats,
		MSNP:    s.MSNP.Stats,
		POI:     s.POI.Stats,
		MDF:     s.MDF.Stats,
		Audit:   s.DB,
	}
}

// Close stops the POI, the X1 endpoint and delivery, commits what is
// pending and closes the store. Records not yet confirmed stay queued.
func (s *Stack) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if err := s.POI.Close(); err != nil {
		errs = append(errs, err)
	}
	s.cancel()
	s.wg.Wait()
	if err := s.MDF.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.DB.Close(); err != nil {
		errs = append(errs, err)
	}
	s.errMu.Lock()
	errs = append(errs, s.errs...)
	s.errMu.Unlock()
	return errors.Join(errs...)
}
