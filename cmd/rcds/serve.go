package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"rcds/hi"
	"rcds/internal/metrics"
	"rcds/store"
	"rcds/x1"
	"rcds/x2x3"
)

// Placeholder identities: serve starts with them so that a first run needs
// no configuration, and warns that they must be replaced.
const (
	placeholderOperatorID = "RCDS"
	placeholderNetworkID  = "rcds-ne"
	placeholderCountry    = "XX" // ISO 3166-1 user-assigned: no real country
)

// serveMediationDefaults are serve's identity flag defaults: the placeholders.
var serveMediationDefaults = mediationDefaults{
	operatorID:       placeholderOperatorID,
	networkElementID: placeholderNetworkID,
	countryCode:      placeholderCountry,
}

// serveOptions are the flags of `rcds serve`.
type serveOptions struct {
	config  string
	x1      x1Options
	capture captureOptions
	speed   string
	// blockTimeout is the live ring's block timeout: the latency bound of
	// live capture.
	blockTimeout    time.Duration
	mediation       mediationOptions
	metricsListen   string
	shutdownTimeout time.Duration
}

func newServeCommand(g *globalOptions) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve (--iface IF | --pcap FILE) [--config FILE]",
		Short: "Run the whole NE in one process: X1, POI (capture, decoder, matching) and MDF (HI2/HI3 delivery)",
		Long: "Run the POI and the MDF in one process until interrupted: the X1 endpoint (mutual TLS) and\n" +
			"the task and destination registry, live capture on --iface (or a capture file with --pcap,\n" +
			"after which it keeps serving until a signal), MSNP decoding and target matching, and X2/X3\n" +
			"handed in-process to the mediation function, which queues HI2/HI3 records on disk and\n" +
			"delivers them to the LEMF destinations provisioned over X1.\n\n" +
			"Every flag can also be set in the YAML --config file under its own name (the command line\n" +
			"wins); the file also holds the per-DID delivery profiles (destinations:, default-destination:).\n" +
			"On SIGINT/SIGTERM the capture stops, every record is committed to disk, and the process exits.",
		Example: "  rcds serve --iface eth1 --filter-port 1863 --x1-cert server.pem --x1-key server-key.pem --x1-client-ca ca.pem\n" +
			"  rcds serve --config /etc/rcds/rcds.yaml\n" +
			"  rcds serve --pcap traffic.pcap --speed recorded --x1-insecure --metrics-listen 127.0.0.1:9090",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fc, err := loadConfig(cmd, o.config)
			if err != nil {
				return err
			}
			logger, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return runServe(cmd.Context(), o, fc, cmd.OutOrStdout(), logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "YAML configuration file: flag names as keys, plus destinations: (per-DID profiles)")
	o.x1.AddFlags(f)
	o.capture.AddFlags(f)
	f.StringVar(&o.speed, "speed", "fast", `--pcap replay speed: "fast" (as fast as possible) or "recorded" (the packets' own timing)`)
	f.DurationVar(&o.blockTimeout, "block-timeout", 2*time.Millisecond, "live capture: hand a ring block over after this long even if not full (the latency bound)")
	o.mediation.AddFlags(f, serveMediationDefaults)
	f.StringVar(&o.metricsListen, "metrics-listen", "", `Prometheus /metrics and /healthz address, e.g. 127.0.0.1:9090 ("": off)`)
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on a signal, how long to wait for the records in flight to be committed to disk")
	return cmd
}

// mdfConfig builds the MDF configuration and warns about placeholders.
func (o *serveOptions) mdfConfig(fc *fileConfig, logger *slog.Logger) (hi.MDFConfig, error) {
	def, dests, err := fc.mdfDestinations()
	if err != nil {
		return hi.MDFConfig{}, err
	}
	cfg := o.mediation.mdfConfig(def, dests)
	for _, p := range []struct{ flag, value, placeholder string }{
		{"operator-id", cfg.OperatorID, placeholderOperatorID},
		{"network-element-id", cfg.NetworkElementID, placeholderNetworkID},
		{"country-code", cfg.CountryCode, placeholderCountry},
		{"ne-id", o.x1.neID, "rcds"},
	} {
		if p.value == p.placeholder {
			logger.Warn("identity is a placeholder: set it for a real deployment (flag or config key)", "key", p.flag, "value", p.value)
		}
	}
	return cfg, nil
}

// pipelineConfig checks the source flags; ok is false when neither --pcap
// nor --iface is given.
func (o *serveOptions) pipelineConfig() (pc pipelineConfig, ok bool, err error) {
	if o.capture.pcap == "" && o.capture.iface == "" {
		if o.speed != "" && o.speed != "fast" {
			return pc, false, errors.New("--speed needs --pcap")
		}
		return pc, false, nil
	}
	pc, err = o.capture.source()
	if err != nil {
		return pc, false, err
	}
	switch o.speed {
	case "", "fast":
	case "recorded":
		if pc.pcap == "" {
			return pc, false, errors.New("--speed recorded applies to --pcap only")
		}
		pc.onPacket = newPacer(time.Now).wait
	default:
		return pc, false, fmt.Errorf("--speed %q: want fast or recorded", o.speed)
	}
	// A short block timeout hands over a block per timeout even when it is
	// nearly empty: many small blocks (64 MiB in all, as the default ring)
	// keep a consumer delayed by a busy machine from making the kernel drop.
	pc.live.BlockTimeout = o.blockTimeout
	pc.live.BlockSize, pc.live.NumBlocks = 256<<10, 256
	return pc, true, nil
}

// pacer delays packets to their recorded timing.
type pacer struct {
	now         func() time.Time
	sleep       func(time.Duration)
	first, wall time.Time
}

func newPacer(now func() time.Time) *pacer { return &pacer{now: now, sleep: time.Sleep} }

// wait sleeps until the packet is due: as long after the first packet as
// its timestamp says.
func (p *pacer) wait(_ uint64, ci gopacket.CaptureInfo) {
	if p.first.IsZero() {
		p.first, p.wall = ci.Timestamp, p.now()
		return
	}
	due := p.wall.Add(ci.Timestamp.Sub(p.first))
	if d := due.Sub(p.now()); d > 0 {
		p.sleep(d)
	}
}

// kernelStatser is the live source's kernel ring statistics.
type kernelStatser interface {
	KernelStats() (packets, drops uint64, err error)
}

func runServe(ctx context.Context, o *serveOptions, fc *fileConfig, out io.Writer, logger *slog.Logger) (err error) {
	if fc.Path != "" {
		logger.Info("configuration file applied", "file", fc.Path)
	}
	pc, capturing, err := o.pipelineConfig()
	if err != nil {
		return err
	}
	mcfg, err := o.mdfConfig(fc, logger)
	if err != nil {
		return err
	}
	db, err := o.x1.openStore()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	reg, srv, err := startX1(ctx, &o.x1, db, logger)
	if err != nil {
		return err
	}
	mdf, err := hi.NewMDF(mcfg, reg, db, logger.With("component", "mdf"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, mdf.Close()) }()
	poi := x2x3.NewPOI(x2x3.POIConfig{}, reg, mdf, logger.With("component", "poi"))
	var pl *pipeline
	if capturing {
		if pl, err = newPipeline(pc, poi, logger.With("component", "capture")); err != nil {
			poi.Close()
			return err
		}
	} else {
		logger.Warn("no packet source (--iface or --pcap): running X1 and the MDF only")
	}

	// Background work runs in bg until shutdown; the capture runs in ctx
	// so that it stops first.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var (
		wg    sync.WaitGroup
		errMu sync.Mutex
		errs  []error
	)
	fail := func(name string, e error) {
		if e == nil {
			return
		}
		errMu.Lock()
		errs = append(errs, fmt.Errorf("%s: %w", name, e))
		errMu.Unlock()
	}
	goRun := func(name string, fn func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); fail(name, fn()) }()
	}
	var cs captureState
	if o.metricsListen != "" {
		ms, err := serveMetrics(o.metricsListen, pl, poi, mdf, db, &cs, logger)
		if err != nil {
			if pl != nil {
				pl.Close()
			}
			poi.Close()
			stopBG()
			return err
		}
		goRun("metrics", func() error { return ms.Serve(bg) })
		fmt.Fprintf(out, "metrics: http://%s/metrics\n", ms.Addr())
	}
	goRun("mdf", func() error { return mdf.Run(bg) })
	if srv != nil {
		goRun("x1", func() error { return srv.Serve(bg) })
		fmt.Fprintf(out, "x1: %s\n", srv.URL())
	}
	if o.mediation.expiry > 0 {
		goRun("expiry", func() error { expireTasks(bg, reg, o.mediation.expiry); return nil })
	}

	captureDone := make(chan struct{})
	if pl != nil {
		fmt.Fprintf(out, "capture: %s\n", sourceName(pc))
		go func() {
			defer close(captureDone)
			e := pl.Run(ctx)
			cs.set(e)
			if e != nil {
				logger.Error("capture stopped", "err", e)
				return
			}
			if pc.pcap != "" && ctx.Err() == nil {
				s, ps := pl.Stats(), poi.Stats()
				logger.Info("capture file processed; serving until a signal", "packets", s.Capture.Packets,
					"events", s.Decoder.TotalEvents(), "pdus", ps.X2+ps.X3)
				if err := poi.Flush(ctx); err != nil && ctx.Err() == nil {
					logger.Error("flush after the capture", "err", err)
				}
			}
		}()
	} else {
		close(captureDone)
	}
	fmt.Fprintln(out, "serving; stop with SIGINT or SIGTERM")

	<-ctx.Done()
	logger.Info("stopping: capture first, then committing every record to disk")
	<-captureDone
	fail("capture", cs.get())
	if pl != nil {
		pl.Close()
	}
	poi.Close()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.shutdownTimeout)
	fail("flush", mdf.Flush(fctx))
	cancel()
	stopBG()
	wg.Wait()
	var queued int64
	for _, d := range mdf.Stats().Destinations {
		queued += d.Queue.Records
	}
	logger.Info("stopped", "records_queued_on_disk", queued)
	errMu.Lock()
	defer errMu.Unlock()
	return errors.Join(errs...)
}

// captureState holds how the capture ended, for /healthz.
type captureState struct {
	mu  sync.Mutex
	err error
}

func (c *captureState) set(err error) { c.mu.Lock(); c.err = err; c.mu.Unlock() }
func (c *captureState) get() error    { c.mu.Lock(); defer c.mu.Unlock(); return c.err }

// serveMetrics binds the metrics endpoint: a private registry with the
// components' collectors, the Go runtime and the process.
func serveMetrics(addr string, pl *pipeline, poi *x2x3.POI, mdf *hi.MDF, db *store.DB, cs *captureState, logger *slog.Logger) (*metrics.Server, error) {
	preg := prometheus.NewRegistry()
	src := metrics.Sources{POI: poi.Stats, MDF: mdf.Stats, Audit: db}
	if pl != nil {
		src.Capture, src.Decoder, src.MSNP = pl.eng.Stats, pl.mux.Stats, pl.msnp.Stats
		if ks, ok := pl.src.(kernelStatser); ok {
			src.KernelDrops = func() (uint64, error) { _, d, err := ks.KernelStats(); return d, err }
		}
	}
	if _, err := metrics.Register(preg, src); err != nil {
		return nil, err
	}
	preg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	health := func() error {
		if err := cs.get(); err != nil {
			return fmt.Errorf("capture stopped: %w", err)
		}
		if s := mdf.Stats(); s.CommitFailures > 0 {
			return fmt.Errorf("%d failed queue commits", s.CommitFailures)
		}
		return nil
	}
	return metrics.Listen(addr, metrics.Handler(preg, health), logger.With("component", "metrics"))
}

// expireTasks deactivates ended tasks by wall-clock time until ctx is done.
func expireTasks(ctx context.Context, reg *x1.Registry, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	reg.ExpireTasks(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			reg.ExpireTasks(now)
		}
	}
}
