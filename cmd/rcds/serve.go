package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"rcds/x1"
)

// serveOptions are the flags of `rcds serve`.
type serveOptions struct {
	x1 x1Options
	// expiry is how often tasks whose warrant ended are looked for
	// (implicitDeactivationAllowed), by wall-clock time.
	expiry time.Duration
}

func newServeCommand(g *globalOptions) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the NE: the X1 endpoint and the task registry",
		Long: "Run the NE until interrupted: the X1 provisioning endpoint (mutual TLS) and the task and\n" +
			"destination registry in the data directory. --x1-request documents are applied first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return runServe(cmd.Context(), o, logger)
		},
	}
	o.x1.AddFlags(cmd.Flags())
	cmd.Flags().DurationVar(&o.expiry, "expiry-interval", time.Second, "how often to deactivate tasks whose EndTime has passed (implicitDeactivationAllowed)")
	return cmd
}

func runServe(ctx context.Context, o *serveOptions, logger *slog.Logger) (err error) {
	db, err := o.x1.openStore()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	reg, srv, err := startX1(ctx, &o.x1, db, logger)
	if err != nil {
		return err
	}
	if o.expiry > 0 {
		ectx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); expireTasks(ectx, reg, o.expiry) }()
		defer func() { stop(); <-done }() // before the store closes
	}
	if srv == nil {
		<-ctx.Done()
		return nil
	}
	return srv.Serve(ctx)
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
