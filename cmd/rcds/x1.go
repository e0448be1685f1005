package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rcds/x1"
)

// x1ClientOptions are the flags every `rcds x1` subcommand shares.
type x1ClientOptions struct {
	server   string
	ca       string
	cert     string
	key      string
	insecure bool
	xml      bool
	admf     string
	ne       string
	timeout  time.Duration
}

// AddFlags registers the connection flags on fs.
func (o *x1ClientOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.server, "server", "https://"+defaultX1Listen+x1.Path, "X1 endpoint URL of the NE")
	fs.StringVar(&o.ca, "ca", "", "CA certificate(s) (PEM) to verify the NE's certificate")
	fs.StringVar(&o.cert, "cert", "", "client certificate (PEM)")
	fs.StringVar(&o.key, "key", "", "client private key (PEM)")
	fs.BoolVar(&o.insecure, "insecure", false, "plain HTTP (an NE run with --x1-insecure); the default --server becomes http://")
	fs.BoolVar(&o.xml, "xml", false, "print the response document as received instead of a summary")
	fs.StringVar(&o.admf, "admf-id", "rcds-admf", "admfIdentifier to send")
	fs.StringVar(&o.ne, "ne-id", "rcds", "neIdentifier of the NE addressed")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up after this long")
}

func (o *x1ClientOptions) client(fs *pflag.FlagSet) (*x1.Client, error) {
	url := o.server
	var cfg *tls.Config
	if o.insecure {
		if !fs.Changed("server") {
			url = "http://" + defaultX1Listen + x1.Path
		}
		if strings.HasPrefix(url, "https://") {
			return nil, errors.New("--insecure needs an http:// --server")
		}
	} else {
		if !strings.HasPrefix(url, "https://") {
			return nil, errors.New("--server must be https:// (or use --insecure)")
		}
		var err error
		if cfg, err = x1.ClientTLSConfig(o.ca, o.cert, o.key); err != nil {
			return nil, err
		}
	}
	return x1.NewClient(url, cfg, o.admf, o.ne), nil
}

// x1Call runs one client call and prints its answer.
type x1Call func(ctx context.Context, c *x1.Client, args []string) (*x1.Reply, error)

func newX1Command(g *globalOptions) *cobra.Command {
	o := &x1ClientOptions{}
	cmd := &cobra.Command{
		Use:   "x1",
		Short: "X1 client (ADMF side): provision destinations and tasks on an NE over mutual TLS",
		Long: "X1 client (ETSI TS 103 221-1, the ADMF side): each subcommand sends one request to the\n" +
			"NE's X1 endpoint over mutual TLS and prints the answer (--xml: the document as received).\n" +
			"A refused request prints the ETSI error and exits with status 1.",
	}
	o.AddFlags(cmd.PersistentFlags())
	// created receives the ID a create/activate generated, to print it.
	var created string
	add := func(use, short string, args cobra.PositionalArgs, setup func(fs *pflag.FlagSet) x1Call) {
		sub := &cobra.Command{Use: use, Short: short, Args: args}
		call := setup(sub.Flags())
		sub.RunE = func(cmd *cobra.Command, args []string) error {
			return runX1(cmd, o, call, args, &created)
		}
		cmd.AddCommand(sub)
	}
	noFlags := func(call x1Call) func(*pflag.FlagSet) x1Call {
		return func(*pflag.FlagSet) x1Call { return call }
	}
	add("ping", "Send a Ping", cobra.NoArgs, noFlags(func(ctx context.Context, c *x1.Client, _ []string) (*x1.Reply, error) {
		return c.Ping(ctx)
	}))
	add("keepalive", "Send a Keepalive", cobra.NoArgs, noFlags(func(ctx context.Context, c *x1.Client, _ []string) (*x1.Reply, error) {
		return c.Keepalive(ctx)
	}))
	add("create-destination", "Create a destination (a LEMF handover endpoint)", cobra.NoArgs, func(fs *pflag.FlagSet) x1Call {
		d := destFlags(fs, true)
		return func(ctx context.Context, c *x1.Client, _ []string) (*x1.Reply, error) {
			if d.did == "" {
				d.did = x1.NewUUID()
				created = "DID " + d.did
			}
			dd, err := d.destination()
			if err != nil {
				return nil, err
			}
			return c.CreateDestination(ctx, dd)
		}
	})
	add("modify-destination", "Replace a destination's details", cobra.NoArgs, func(fs *pflag.FlagSet) x1Call {
		d := destFlags(fs, false)
		return func(ctx context.Context, c *x1.Client, _ []string) (*x1.Reply, error) {
			dd, err := d.destination()
			if err != nil {
				return nil, err
			}
			return c.ModifyDestination(ctx, dd)
		}
	})
	add("remove-destination DID", "Remove a destination", cobra.ExactArgs(1), noFlags(func(ctx context.Context, c *x1.Client, a []string) (*x1.Reply, error) {
		return c.RemoveDestination(ctx, a[0])
	}))
	add("activate", "Activate a task (a warrant's targets)", cobra.NoArgs, func(fs *pflag.FlagSet) x1Call {
		t := taskFlags(fs, true)
		return func(ctx context.Context, c *x1.Client, _ []string) (*x1.Reply, error) {
			if t.xid == "" {
				t.xid = x1.NewUUID()
				created = "XID " + t.xid
			}
			tk, err := t.task()
			if err != nil {
				return nil, err
			}
			return c.ActivateTask(ctx, tk)
		}
	})
	add("modify", "Replace a task's details", cobra.NoArgs, func(fs *pflag.FlagSet) x1Call {
		t := taskFlags(fs, false)
		return func(ctx context.Context, c *x1.Client, _ []string) (*x1.Reply, error) {
			tk, err := t.task()
			if err != nil {
				return nil, err
			}
			return c.ModifyTask(ctx, tk)
		}
	})
	add("deactivate XID", "Deactivate a task", cobra.ExactArgs(1), noFlags(func(ctx context.Context, c *x1.Client, a []string) (*x1.Reply, error) {
		return c.DeactivateTask(ctx, a[0])
	}))
	add("deactivate-all", "Deactivate every task", cobra.NoArgs, noFlags(func(ctx context.Context, c *x1.Client, _ []string) (*x1.Reply, error) {
		return c.DeactivateAllTasks(ctx)
	}))
	add("get-task XID", "Show a task", cobra.ExactArgs(1), noFlags(func(ctx context.Context, c *x1.Client, a []string) (*x1.Reply, error) {
		return c.GetTaskDetails(ctx, a[0])
	}))
	add("get-destination DID", "Show a destination", cobra.ExactArgs(1), noFlags(func(ctx context.Context, c *x1.Client, a []string) (*x1.Reply, error) {
		return c.GetDestinationDetails(ctx, a[0])
	}))
	add("list", "List the XIDs and DIDs", cobra.NoArgs, noFlags(func(ctx context.Context, c *x1.Client, _ []string) (*x1.Reply, error) {
		return c.ListAllDetails(ctx)
	}))
	add("get-all", "Show every task and destination", cobra.NoArgs, noFlags(func(ctx context.Context, c *x1.Client, _ []string) (*x1.Reply, error) {
		return c.GetAllDetails(ctx)
	}))
	send := &cobra.Command{
		Use:   "send FILE",
		Short: "Post an X1 document as it is (- for stdin) and print the raw answer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client(cmd.Flags())
			if err != nil {
				return err
			}
			defer c.Close()
			var r io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			doc, err := io.ReadAll(io.LimitReader(r, x1.MaxDocumentSize+1))
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
			defer cancel()
			raw, err := c.Do(ctx, doc)
			cmd.OutOrStdout().Write(raw)
			return err
		},
	}
	cmd.AddCommand(send)
	for _, c := range cmd.Commands() {
		if strings.HasPrefix(c.Use, "get-task") {
			c.Aliases = []string{"get"}
		}
	}
	return cmd
}

func runX1(cmd *cobra.Command, o *x1ClientOptions, call x1Call, args []string, created *string) error {
	c, err := o.client(cmd.Flags())
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
	defer cancel()
	reply, err := call(ctx, c, args)
	w := cmd.OutOrStdout()
	if reply != nil {
		switch {
		case o.xml:
			w.Write(reply.Raw)
		case errors.Is(err, x1.ErrTopLevel):
			fmt.Fprintln(w, "X1TopLevelErrorResponse: the NE could not parse the request")
		case reply.Response.Type != "":
			x1.WriteText(w, reply.Response)
		}
	}
	if err == nil && *created != "" && !o.xml {
		fmt.Fprintln(w, *created)
	}
	return err
}

// destOptions are the flags describing a destination.
type destOptions struct {
	did, name, delivery, address string
}

func destFlags(fs *pflag.FlagSet, create bool) *destOptions {
	d := &destOptions{}
	if create {
		fs.StringVar(&d.did, "did", "", "DID (default: a new UUID)")
	} else {
		fs.StringVar(&d.did, "did", "", "DID of the destination (required)")
	}
	fs.StringVar(&d.name, "name", "", "friendly name")
	fs.StringVar(&d.delivery, "delivery", string(x1.X2andX3), "what the LEMF takes: X2Only (HI2), X3Only (HI3) or X2andX3")
	fs.StringVar(&d.address, "address", "", "LEMF address host:port (required)")
	return d
}

func (d *destOptions) destination() (x1.Destination, error) {
	if d.did == "" {
		return x1.Destination{}, errors.New("--did is required")
	}
	if d.address == "" {
		return x1.Destination{}, errors.New("--address is required")
	}
	return x1.Destination{DID: d.did, FriendlyName: d.name, DeliveryType: x1.DeliveryType(d.delivery), Address: d.address}, nil
}

// taskOptions are the flags describing a task.
type taskOptions struct {
	xid, delivery, hiDelivery, start, end, correlation string
	targets, dids, liids                               []string
	implicit                                           bool
}

func taskFlags(fs *pflag.FlagSet, create bool) *taskOptions {
	t := &taskOptions{}
	if create {
		fs.StringVar(&t.xid, "xid", "", "XID (default: a new UUID)")
	} else {
		fs.StringVar(&t.xid, "xid", "", "XID of the task (required)")
	}
	fs.StringArrayVar(&t.targets, "target", nil, "target: email:PASSPORT, ipv4:ADDR, ipv6:ADDR, ipv4cidr:PREFIX, ipv6cidr:PREFIX, or a bare passport/address (repeatable, required)")
	fs.StringVar(&t.delivery, "delivery", string(x1.X2andX3), "X2Only, X3Only or X2andX3")
	fs.StringArrayVar(&t.dids, "did", nil, "destination DID (repeatable)")
	fs.StringArrayVar(&t.liids, "liid", nil, "LIID of a warrant (repeatable; each one a mediationDetails)")
	fs.StringVar(&t.hiDelivery, "hi-delivery", string(x1.HI2andHI3), "the warrants' HI delivery: HI2Only, HI3Only or HI2andHI3")
	fs.StringVar(&t.start, "start", "", "warrant start (RFC 3339)")
	fs.StringVar(&t.end, "end", "", "warrant end (RFC 3339)")
	fs.BoolVar(&t.implicit, "implicit-deactivation", false, "let the NE deactivate the task when its warrants end")
	fs.StringVar(&t.correlation, "correlation-id", "", "correlationID (a non-negative integer)")
	return t
}

func (o *taskOptions) task() (x1.Task, error) {
	t := x1.Task{XID: o.xid, DeliveryType: x1.DeliveryType(o.delivery), DIDs: o.dids,
		ImplicitDeactivationAllowed: o.implicit, CorrelationID: o.correlation}
	if t.XID == "" {
		return t, errors.New("--xid is required")
	}
	if len(o.targets) == 0 {
		return t, errors.New("at least one --target is required")
	}
	for _, s := range o.targets {
		tg, err := x1.ParseTarget(s)
		if err != nil {
			return t, fmt.Errorf("--target %q: %w", s, err)
		}
		t.Targets = append(t.Targets, tg)
	}
	var start, end time.Time
	var err error
	if o.start != "" {
		if start, err = time.Parse(time.RFC3339, o.start); err != nil {
			return t, fmt.Errorf("--start: %w", err)
		}
	}
	if o.end != "" {
		if end, err = time.Parse(time.RFC3339, o.end); err != nil {
			return t, fmt.Errorf("--end: %w", err)
		}
	}
	if (o.start != "" || o.end != "") && len(o.liids) == 0 {
		return t, errors.New("--start and --end belong to a warrant: give its --liid")
	}
	for _, l := range o.liids {
		t.Mediation = append(t.Mediation, x1.MediationDetails{LIID: l, DeliveryType: x1.HIDeliveryType(o.hiDelivery), StartTime: start, EndTime: end})
	}
	return t, nil
}
