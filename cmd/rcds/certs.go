package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"rcds/x1"
)

// certsOptions are the flags of `rcds certs`.
type certsOptions struct {
	out   string
	hosts []string
}

func newCertsCommand() *cobra.Command {
	o := &certsOptions{}
	cmd := &cobra.Command{
		Use:   "certs --out DIR [--host NAME_OR_IP]...",
		Short: "Write a demo CA, an X1 server certificate and an X1 client certificate",
		Long: "Write a demo certificate authority with one X1 server certificate (for the --host names,\n" +
			"default localhost, 127.0.0.1 and ::1) and one client certificate (CN rcds-admf), as PEM\n" +
			"files, for tests and demonstrations of X1 with mutual TLS. Not for production: the CA key\n" +
			"is written next to the certificates.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.out == "" {
				return fmt.Errorf("--out is required")
			}
			f, err := x1.WriteDemoPKI(o.out, o.hosts)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "CA certificate:      %s\n", f.CACert)
			fmt.Fprintf(w, "CA key:              %s\n", f.CAKey)
			fmt.Fprintf(w, "server certificate:  %s\n", f.ServerCert)
			fmt.Fprintf(w, "server key:          %s\n", f.ServerKey)
			fmt.Fprintf(w, "client certificate:  %s\n", f.ClientCert)
			fmt.Fprintf(w, "client key:          %s\n", f.ClientKey)
			fmt.Fprintf(w, "\nserver: rcds serve --x1-cert %s --x1-key %s --x1-client-ca %s\n", f.ServerCert, f.ServerKey, f.CACert)
			fmt.Fprintf(w, "client: rcds x1 ping --ca %s --cert %s --key %s\n", f.CACert, f.ClientCert, f.ClientKey)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "", "directory to write the PEM files into (created if needed)")
	cmd.Flags().StringArrayVar(&o.hosts, "host", nil, "DNS name or IP address of the X1 server certificate (repeatable)")
	return cmd
}
