package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"rcds/x1"
	"rcds/x2x3"
)

// poiOptions are the flags of `rcds poi`.
type poiOptions struct {
	x1      x1Options
	capture captureOptions
	mdf     string
	mdfCA   string
	mdfCert string
	mdfKey  string
	out     string
	// flushTimeout bounds the wait for the MDF to confirm everything at
	// the end of a --pcap run (and at shutdown).
	flushTimeout time.Duration
	keepalive    time.Duration
	bufferPDUs   int
	bufferBytes  int
	dedupWindow  time.Duration
}

func newPOICommand(g *globalOptions) *cobra.Command {
	o := &poiOptions{}
	cmd := &cobra.Command{
		Use:   "poi (--pcap FILE | --iface IF) (--mdf HOST:PORT | --x2x3-out FILE)",
		Short: "Run a point of interception: MSNP events of the targets become X2/X3 PDUs",
		Long: "Run a point of interception: decode MSN Messenger traffic from a capture file or a live\n" +
			"interface, match it against the tasks provisioned over its X1 endpoint (and --x1-request\n" +
			"documents, in force from the first packet), and send X2 (IRI) and X3 (content) PDUs of\n" +
			"the targets to an MDF over TCP/TLS (--mdf) or to a raw PDU file (--x2x3-out).\n" +
			"With --pcap the command exits once the capture is processed and every PDU is written\n" +
			"(--x2x3-out) or confirmed by the MDF (--mdf); with --iface it runs until interrupted.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return runPOI(cmd.Context(), o, cmd.OutOrStdout(), logger)
		},
	}
	f := cmd.Flags()
	o.x1.AddFlags(f)
	o.capture.AddFlags(f)
	f.StringVar(&o.mdf, "mdf", "", "send X2/X3 to the MDF at HOST:PORT over TCP (TLS with --mdf-ca)")
	f.StringVar(&o.mdfCA, "mdf-ca", "", "CA certificates (PEM) of the MDF's server certificate; turns on TLS")
	f.StringVar(&o.mdfCert, "mdf-cert", "", "client certificate (PEM) presented to the MDF (mutual TLS)")
	f.StringVar(&o.mdfKey, "mdf-key", "", "private key (PEM) of --mdf-cert")
	f.StringVar(&o.out, "x2x3-out", "", "write the raw X2/X3 PDU stream to this file instead of sending it")
	f.DurationVar(&o.flushTimeout, "flush-timeout", 30*time.Second, "how long to wait at the end for the MDF to confirm every PDU")
	f.DurationVar(&o.keepalive, "keepalive", 5*time.Second, "send an X2/X3 keep-alive to the MDF when idle this long")
	f.IntVar(&o.bufferPDUs, "buffer-pdus", 65536, "PDUs held in memory while the MDF is unreachable (beyond: dropped and counted)")
	f.IntVar(&o.bufferBytes, "buffer-bytes", 64<<20, "bytes held in memory while the MDF is unreachable")
	f.DurationVar(&o.dedupWindow, "dedup-window", 5*time.Second, "packet-time window within which copies of one message on different connections are delivered once")
	return cmd
}

// poiSink is the Sink `rcds poi` sends to and how it ends.
type poiSink struct {
	sink  x2x3.Sink
	close func() error
	stats func() string
}

// checkSink checks the sink flags and loads the TLS material, before
// anything is opened.
func (o *poiOptions) checkSink() (*tls.Config, error) {
	switch {
	case o.mdf == "" && o.out == "":
		return nil, errors.New("one of --mdf HOST:PORT or --x2x3-out FILE is required")
	case o.mdf != "" && o.out != "":
		return nil, errors.New("--mdf and --x2x3-out exclude each other")
	case o.out != "" && (o.mdfCA != "" || o.mdfCert != "" || o.mdfKey != ""):
		return nil, errors.New("--mdf-ca, --mdf-cert and --mdf-key need --mdf")
	case o.out != "":
		return nil, nil
	}
	return o.mdfTLS()
}

// openSink opens the file or starts the Sender; the returned function stops
// the Sender's goroutine.
func (o *poiOptions) openSink(ctx context.Context, tlsCfg *tls.Config, logger *slog.Logger) (*poiSink, func(), error) {
	if o.out != "" {
		fs, err := x2x3.CreateFileSink(o.out)
		if err != nil {
			return nil, nil, err
		}
		return &poiSink{
			sink:  fs,
			close: fs.Close,
			stats: func() string {
				n, b := fs.Stats()
				return fmt.Sprintf("%d PDUs, %d bytes written to %s", n, b, o.out)
			},
		}, func() {}, nil
	}
	s := x2x3.NewSender(x2x3.SenderConfig{
		Addr:              o.mdf,
		TLS:               tlsCfg,
		KeepaliveInterval: o.keepalive,
		MaxBufferedPDUs:   o.bufferPDUs,
		MaxBufferedBytes:  o.bufferBytes,
	}, logger)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(runCtx) //nolint:errcheck // returns only when stopped
	}()
	wait := func() { stop(); <-done }
	return &poiSink{
		sink:  s,
		close: s.Close,
		stats: func() string {
			st := s.Stats()
			return fmt.Sprintf("%d PDUs sent, %d confirmed, %d re-sent, %d dropped (buffer full), %d unconfirmed, %d connections to %s",
				st.Sent, st.Confirmed, st.Resent, st.Dropped, st.Buffered, st.Connects, o.mdf)
		},
	}, wait, nil
}

// mdfTLS builds the client TLS configuration, or nil for plain TCP.
func (o *poiOptions) mdfTLS() (*tls.Config, error) {
	if o.mdfCA == "" && o.mdfCert == "" && o.mdfKey == "" {
		return nil, nil
	}
	if o.mdfCA == "" {
		return nil, errors.New("--mdf-cert and --mdf-key need --mdf-ca (the MDF's CA)")
	}
	if (o.mdfCert == "") != (o.mdfKey == "") {
		return nil, errors.New("--mdf-cert and --mdf-key go together")
	}
	pem, err := os.ReadFile(o.mdfCA)
	if err != nil {
		return nil, fmt.Errorf("--mdf-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--mdf-ca %s: no PEM certificate", o.mdfCA)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if o.mdfCert != "" {
		cert, err := tls.LoadX509KeyPair(o.mdfCert, o.mdfKey)
		if err != nil {
			return nil, fmt.Errorf("--mdf-cert/--mdf-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func runPOI(ctx context.Context, o *poiOptions, out io.Writer, logger *slog.Logger) (err error) {
	pcfg, err := o.capture.source()
	if err != nil {
		return fmt.Errorf("poi: %w", err)
	}
	tlsCfg, err := o.checkSink()
	if err != nil {
		return fmt.Errorf("poi: %w", err)
	}
	db, err := o.x1.openStore()
	if err != nil {
		return fmt.Errorf("poi: %w", err)
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reg, srv, err := startX1(ctx, &o.x1, db, logger)
	if err != nil {
		return fmt.Errorf("poi: %w", err)
	}
	var bg []func() // stopped in reverse order before the store closes
	defer func() {
		cancel()
		for i := len(bg) - 1; i >= 0; i-- {
			bg[i]()
		}
	}()
	if srv != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := srv.Serve(ctx); err != nil {
				logger.Error("X1 endpoint stopped", "err", err)
			}
		}()
		bg = append(bg, func() { <-done })
	}
	if pcfg.iface != "" {
		// Live: warrants end by wall-clock time. A replay compares
		// StartTime/EndTime with packet time in the POI instead.
		done := make(chan struct{})
		go func() { defer close(done); expireTasks(ctx, reg, time.Second) }()
		bg = append(bg, func() { <-done })
	}

	sk, stopSink, err := o.openSink(ctx, tlsCfg, logger)
	if err != nil {
		return fmt.Errorf("poi: %w", err)
	}
	bg = append(bg, func() {
		stopSink()
		if cerr := sk.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("poi: %w", cerr))
		}
	})

	poi := x2x3.NewPOI(x2x3.POIConfig{DedupWindow: o.dedupWindow}, reg, sk.sink, logger)
	defer poi.Close()
	pl, err := newPipeline(pcfg, poi, logger)
	if err != nil {
		return fmt.Errorf("poi: %w", err)
	}
	defer pl.Close()
	logger.Info("POI running", "source", sourceName(pcfg), "tasks", len(reg.Tasks()))

	runErr := pl.Run(ctx)
	if errors.Is(runErr, context.Canceled) {
		runErr = nil
	}
	// Everything decoded is handed over; make sure it is written or
	// confirmed before saying so.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), o.flushTimeout)
	flushErr := poi.Flush(fctx)
	fcancel()

	st := pl.Stats()
	ps := poi.Stats()
	fmt.Fprintf(out, "rcds poi: %d packets, %d flows, %d events; %d tasks; %d X2 and %d X3 PDUs (%d duplicates suppressed, %d outside warrant windows, %d encode errors, %d refused); %s\n",
		st.Capture.Packets, st.Capture.Flows, ps.Events, ps.Tasks, ps.X2, ps.X3,
		ps.Duplicates, ps.OutOfWindow, ps.EncodeErrors, ps.SendErrors, sk.stats())
	switch {
	case runErr != nil:
		return fmt.Errorf("poi: %w", runErr)
	case flushErr != nil:
		return fmt.Errorf("poi: PDUs not confirmed: %w", flushErr)
	case ps.SendErrors > 0:
		return fmt.Errorf("poi: %d PDUs could not be handed to the sink", ps.SendErrors)
	}
	return nil
}

func sourceName(c pipelineConfig) string {
	if c.pcap != "" {
		return "file " + c.pcap
	}
	return "interface " + c.iface
}

// Compile-time check that the registry is a task source.
var _ x2x3.TaskSource = (*x1.Registry)(nil)
