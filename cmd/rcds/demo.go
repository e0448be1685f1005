package main

import (
	"time"

	"github.com/spf13/cobra"

	"rcds/internal/demo"
)

// demoOptions are the flags of `rcds demo`.
type demoOptions struct {
	dir      string
	keep     bool
	seed     int64
	sessions int
	timeout  time.Duration
}

func newDemoCommand(g *globalOptions) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Show the whole system on loopback: a generated capture in, the target's conversation out at the LEMF",
		Long: "Run the system in one process on loopback, with nothing but Go installed and no root: generate\n" +
			"an MSN capture (a target chatting with two contacts, in English and Chinese, among other users'\n" +
			"traffic), start the X1 endpoint, POI and MDF (as `rcds serve`) and a LEMF on ephemeral ports,\n" +
			"provision an HI2 and an HI3 destination and a task for the target through the X1 client over\n" +
			"mutual TLS with fresh certificates, replay the capture, and print what the LEMF received and a\n" +
			"summary. Exits non-zero if a message of the target is missing or if any byte received names a\n" +
			"non-target or carries a conversation the target was not part of.",
		Example: "  go run ./cmd/rcds demo\n  rcds demo --keep --dir /tmp/rcds-demo   # keep the capture, certificates, database and raw HI files",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("log-level") {
				g.logLevel = "warn" // the demo's output is the report, not the logs
			}
			logger, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			_, err = demo.Run(cmd.Context(), demo.Options{
				Dir: o.dir, Keep: o.keep, Seed: o.seed, Sessions: o.sessions, Timeout: o.timeout, Logger: logger,
			}, cmd.OutOrStdout())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "working directory (default: a temporary directory, removed at the end unless --keep)")
	f.BoolVar(&o.keep, "keep", false, "keep the working directory (capture, certificates, database, raw HI2/HI3 bytes)")
	f.Int64Var(&o.seed, "seed", 1, "seed of the generated capture")
	f.IntVar(&o.sessions, "sessions", 8, "login sessions of background users in the capture")
	f.DurationVar(&o.timeout, "timeout", 50*time.Second, "give up after this long")
	return cmd
}
