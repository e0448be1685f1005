package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"rcds/hi"
	"rcds/x1"
	"rcds/x2x3"
)

// mdfOptions are the flags of `rcds mdf`.
type mdfOptions struct {
	config       string
	x1           x1Options
	x2x3Listen   string
	x2x3Cert     string
	x2x3Key      string
	x2x3ClientCA string
	mediation    mediationOptions
	destinations string
}

func newMDFCommand(g *globalOptions) *cobra.Command {
	o := &mdfOptions{}
	cmd := &cobra.Command{
		Use:   "mdf",
		Short: "Run the mediation function: X2/X3 in, HI2/HI3 (ETSI TS 102 232) out, queued on disk",
		Long: "Run the MDF until interrupted: the X1 endpoint (destinations and tasks with their LIIDs), an\n" +
			"X2/X3 listener for POIs, and one delivery connection per LEMF destination. Every record is\n" +
			"committed to the data directory (fsync) before the POI's keep-alive is acknowledged, and\n" +
			"leaves it only once the LEMF has confirmed it.",
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
			return runMDF(cmd.Context(), o, fc, cmd.OutOrStdout(), logger)
		},
	}
	o.x1.AddFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "YAML configuration file: flag names as keys, plus destinations: and default-destination: (per-DID profiles)")
	f.StringVar(&o.x2x3Listen, "x2x3-listen", "127.0.0.1:9992", "address for X2/X3 from POIs (TCP)")
	f.StringVar(&o.x2x3Cert, "x2x3-cert", "", "X2/X3 server certificate (PEM); with --x2x3-key and --x2x3-client-ca the listener requires mutual TLS")
	f.StringVar(&o.x2x3Key, "x2x3-key", "", "X2/X3 server private key (PEM)")
	f.StringVar(&o.x2x3ClientCA, "x2x3-client-ca", "", "CA certificates (PEM) that POI client certificates must chain to")
	// No identity defaults: --operator-id and --country-code are required.
	o.mediation.AddFlags(f, mediationDefaults{})
	f.StringVar(&o.destinations, "destinations", "", "YAML file with the per-DID delivery configuration (profile, integrity, TLS, queue cap)")
	return cmd
}

// destFile is the --destinations YAML document.
type destFile struct {
	// Default applies to every DID not listed.
	Default destYAML `yaml:"default"`
	// Destinations is keyed by DID.
	Destinations map[string]destYAML `yaml:"destinations"`
}

type destYAML struct {
	Profile         string   `yaml:"profile"` // "102232" (default) or "101671"
	Integrity       bool     `yaml:"integrity"`
	IntegrityGroup  int      `yaml:"integrity_group"`
	QueueMaxRecords int      `yaml:"queue_max_records"`
	QueueMaxBytes   int64    `yaml:"queue_max_bytes"`
	TLS             *tlsYAML `yaml:"tls"`
}

type tlsYAML struct {
	CA         string `yaml:"ca"`          // CA certificates (PEM) the LEMF's certificate must chain to; empty: system roots
	Cert       string `yaml:"cert"`        // client certificate (PEM), optional
	Key        string `yaml:"key"`         // its key
	ServerName string `yaml:"server_name"` // name to verify; default: the host of the destination address
}

// loadDestinations reads and checks the --destinations file.
func loadDestinations(path string) (hi.DestinationConfig, map[string]hi.DestinationConfig, error) {
	var def hi.DestinationConfig
	if path == "" {
		return def, nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return def, nil, fmt.Errorf("--destinations: %w", err)
	}
	var f destFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return def, nil, fmt.Errorf("--destinations %s: %w", path, err)
	}
	if def, err = f.Default.config(); err != nil {
		return def, nil, fmt.Errorf("--destinations %s: default: %w", path, err)
	}
	out := make(map[string]hi.DestinationConfig, len(f.Destinations))
	for did, d := range f.Destinations {
		key := strings.ToLower(did)
		if !x1.IsUUID(key) {
			return def, nil, fmt.Errorf("--destinations %s: %q is not a DID (UUID)", path, did)
		}
		c, err := d.config()
		if err != nil {
			return def, nil, fmt.Errorf("--destinations %s: %s: %w", path, did, err)
		}
		out[key] = c
	}
	return def, out, nil
}

func (d destYAML) config() (hi.DestinationConfig, error) {
	c := hi.DestinationConfig{
		Profile:         hi.Profile(d.Profile),
		Integrity:       d.Integrity,
		IntegrityGroup:  d.IntegrityGroup,
		QueueMaxRecords: d.QueueMaxRecords,
		QueueMaxBytes:   d.QueueMaxBytes,
	}
	if d.TLS != nil {
		t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: d.TLS.ServerName}
		if d.TLS.CA != "" {
			pem, err := os.ReadFile(d.TLS.CA)
			if err != nil {
				return c, fmt.Errorf("tls ca: %w", err)
			}
			t.RootCAs = x509.NewCertPool()
			if !t.RootCAs.AppendCertsFromPEM(pem) {
				return c, fmt.Errorf("tls ca %s: no PEM certificate", d.TLS.CA)
			}
		}
		if d.TLS.Cert != "" || d.TLS.Key != "" {
			cert, err := tls.LoadX509KeyPair(d.TLS.Cert, d.TLS.Key)
			if err != nil {
				return c, fmt.Errorf("tls client certificate: %w", err)
			}
			t.Certificates = []tls.Certificate{cert}
		}
		c.TLS = t
	}
	return c, nil
}

func (o *mdfOptions) mdfConfig(fc *fileConfig) (hi.MDFConfig, error) {
	var def hi.DestinationConfig
	var dests map[string]hi.DestinationConfig
	var err error
	if o.destinations != "" {
		if fc != nil && (fc.Default != nil || len(fc.Destinations) > 0) {
			return hi.MDFConfig{}, fmt.Errorf("per-DID profiles are in both --destinations and %s: keep them in one place", fc.Path)
		}
		def, dests, err = loadDestinations(o.destinations)
	} else if fc != nil {
		def, dests, err = fc.mdfDestinations()
	}
	if err != nil {
		return hi.MDFConfig{}, err
	}
	cfg := o.mediation.mdfConfig(def, dests)
	if cfg.OperatorID == "" || cfg.CountryCode == "" {
		return cfg, errors.New("--operator-id and --country-code are required (they go into every PSHeader)")
	}
	return cfg, nil
}

func (o *mdfOptions) x2x3TLS() (*tls.Config, error) {
	if o.x2x3Cert == "" && o.x2x3Key == "" && o.x2x3ClientCA == "" {
		return nil, nil
	}
	if o.x2x3Cert == "" || o.x2x3Key == "" || o.x2x3ClientCA == "" {
		return nil, errors.New("X2/X3 TLS needs all of --x2x3-cert, --x2x3-key and --x2x3-client-ca")
	}
	return x1.ServerTLSConfig(o.x2x3Cert, o.x2x3Key, o.x2x3ClientCA)
}

func runMDF(ctx context.Context, o *mdfOptions, fc *fileConfig, out io.Writer, logger *slog.Logger) (err error) {
	cfg, err := o.mdfConfig(fc)
	if err != nil {
		return err
	}
	tlsCfg, err := o.x2x3TLS()
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
	m, err := hi.NewMDF(cfg, reg, db, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, m.Close()) }()
	ln, err := net.Listen("tcp", o.x2x3Listen)
	if err != nil {
		return fmt.Errorf("--x2x3-listen: %w", err)
	}
	rcv := x2x3.NewReceiver(x2x3.ReceiverConfig{TLS: tlsCfg}, m, logger)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	goRun := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
				cancel()
			}
		}()
	}
	goRun("delivery", func() error { return m.Run(ctx) })
	goRun("X2/X3", func() error { return rcv.Serve(ctx, ln) })
	x1Addr := "disabled"
	if srv != nil {
		x1Addr = srv.Addr().String()
		goRun("X1", func() error { return srv.Serve(ctx) })
	}
	if o.mediation.expiry > 0 {
		goRun("expiry", func() error { expireTasks(ctx, reg, o.mediation.expiry); return nil })
	}
	fmt.Fprintf(out, "mdf: X2/X3 on %s, X1 on %s, data in %s\n", ln.Addr(), x1Addr, o.x1.dataDir)
	<-ctx.Done()
	wg.Wait()
	if err := m.Close(); err != nil {
		errs = append(errs, err)
	}
	st := m.Stats()
	fmt.Fprintf(out, "mdf: stopped: %d X2/X3 PDUs, %d records queued, %d refused (queue full), %d unknown XID, %d bad\n",
		st.PDUs, st.Records, st.Overflow, st.UnknownXID, st.BadPDU)
	for _, d := range st.Destinations {
		fmt.Fprintf(out, "  %s %s: sent %d, re-sent %d, confirmed %d, %d still queued\n",
			d.DID, d.Address, d.Sent, d.Resent, d.Confirmed, d.Queue.Records)
	}
	return errors.Join(errs...)
}
