package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"rcds/hi"
)

// lemfOptions are the flags of `rcds lemf`.
type lemfOptions struct {
	hi2Listen, hi3Listen string
	out                  string
	rawDir               string
	cert, key            string
	options              string
	quiet                bool
	noKeepaliveResponse  bool
}

func newLEMFCommand(g *globalOptions) *cobra.Command {
	o := &lemfOptions{}
	cmd := &cobra.Command{
		Use:   "lemf",
		Short: "Run a reference LEMF: receive HI2/HI3, decode, confirm and record every PS-PDU",
		Long: "Run the agency side until interrupted: accept HI2 and HI3 connections, decode every\n" +
			"TS 102 232-1 PS-PDU (messagingIRI, messagingCC and TS 101 671 eTSI671IRI), answer\n" +
			"keep-alives, accept the pDUAcknowledgement option and answer its requests, recognise\n" +
			"re-sent records, and show a live view on stdout. --out writes one JSON object per record,\n" +
			"--raw-dir the exact bytes of each connection (hi2-N.ber, hi3-N.ber).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return runLEMF(cmd.Context(), o, cmd.OutOrStdout(), logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.hi2Listen, "hi2-listen", "", "address for HI2 (IRI) connections")
	f.StringVar(&o.hi3Listen, "hi3-listen", "", "address for HI3 (content) connections")
	f.StringVar(&o.out, "out", "", `write one JSON object per record to this file ("-" for stdout, which replaces the live view)`)
	f.StringVar(&o.rawDir, "raw-dir", "", "write the bytes received on each connection to DIR/hi2-N.ber and DIR/hi3-N.ber")
	f.StringVar(&o.cert, "tls-cert", "", "serve TLS with this certificate (PEM)")
	f.StringVar(&o.key, "tls-key", "", "private key of --tls-cert (PEM)")
	f.StringVar(&o.options, "options", "accept", "answer to optionRequest: accept (pDUAcknowledgement), decline, or ignore")
	f.BoolVar(&o.quiet, "quiet", false, "no live view")
	f.BoolVar(&o.noKeepaliveResponse, "no-keepalive-response", false, "never answer keep-alives (to test an MDF)")
	_ = f.MarkHidden("no-keepalive-response")
	return cmd
}

func runLEMF(ctx context.Context, o *lemfOptions, stdout io.Writer, logger *slog.Logger) (err error) {
	if o.hi2Listen == "" && o.hi3Listen == "" {
		return errors.New("give --hi2-listen or --hi3-listen (or both)")
	}
	cfg := hi.LEMFConfig{
		HI2Listen:           o.hi2Listen,
		HI3Listen:           o.hi3Listen,
		RawDir:              o.rawDir,
		NoKeepaliveResponse: o.noKeepaliveResponse,
	}
	switch o.options {
	case "accept":
		cfg.Options = hi.OptionsAccept
	case "decline":
		cfg.Options = hi.OptionsDecline
	case "ignore":
		cfg.Options = hi.OptionsIgnore
	default:
		return fmt.Errorf("--options %q: want accept, decline or ignore", o.options)
	}
	if o.cert != "" || o.key != "" {
		cert, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var view *bufio.Writer
	switch o.out {
	case "":
	case "-":
		cfg.Out = stdout
	default:
		f, err := os.OpenFile(o.out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer func() { err = errors.Join(err, f.Close()) }()
		cfg.Out = f
	}
	if !o.quiet && o.out != "-" {
		view = bufio.NewWriter(stdout)
		cfg.View = lineFlusher{view}
	}
	l, err := hi.NewLEMF(cfg, logger)
	if err != nil {
		return err
	}
	if err := l.Listen(); err != nil {
		return err
	}
	if o.out != "-" {
		fmt.Fprintf(stdout, "lemf: HI2 on %s, HI3 on %s\n", orNone(l.HI2Addr()), orNone(l.HI3Addr()))
	}
	err = l.Serve(ctx)
	st := l.Stats()
	if o.out != "-" {
		fmt.Fprintf(stdout, "lemf: stopped: %d connections, %d records (%d IRI, %d CC), %d duplicates, %d conflicts, %d undecodable, %d keep-alives, %d acknowledgement requests\n",
			st.Connections, st.Records, st.IRI, st.CC, st.Duplicates, st.Conflicts, st.DecodeErrors+st.Malformed, st.Keepalives, st.AckRequests)
	}
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// lineFlusher writes each live-view line out at once.
type lineFlusher struct{ w *bufio.Writer }

func (l lineFlusher) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if err == nil {
		err = l.w.Flush()
	}
	return n, err
}
