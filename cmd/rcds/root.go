package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	logLevel  string
	logFormat string
}

// logger builds the slog logger the flags ask for, writing to w.
func (o *globalOptions) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	hopts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(o.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not text or json", o.logFormat)
}

// newRootCommand builds the command tree. Each subcommand lives in its own
// file as newXCommand(g).
func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:           "rcds",
		Short:         "RCDS: ETSI lawful-interception mediation for MSN Messenger",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.AddCommand(
		newVersionCommand(),
		newDecodeCommand(g),
		newGenCommand(g),
		newServeCommand(g), newX1Command(g), newCertsCommand(),
		newMDFCommand(g), newLEMFCommand(g),
		newPOICommand(g),
		newDemoCommand(g),
	)
	return root
}

func run(ctx context.Context, args []string) int {
	g := &globalOptions{}
	root := newRootCommand(g)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "rcds:", err)
		return 1
	}
	return 0
}
