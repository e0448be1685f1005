package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// the module build information is used.
var version = ""

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the ETSI specifications implemented",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version
			if v == "" {
				v = "devel"
				if bi, ok := debug.ReadBuildInfo(); ok {
					for _, s := range bi.Settings {
						if s.Key == "vcs.revision" && len(s.Value) >= 12 {
							v = "devel+" + s.Value[:12]
						}
					}
				}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "rcds %s\n", v)
			fmt.Fprintln(w, "X1: ETSI TS 103 221-1 (schema 1.22.1)")
			fmt.Fprintln(w, "X2/X3: ETSI TS 103 221-2 (PDU version 5)")
			fmt.Fprintln(w, "HI2/HI3: ETSI TS 102 232-1 LI-PS-PDU version33, TS 102 232-2 EmailPDU version19 (messaging), TS 101 671 HI2Operations version18")
			return nil
		},
	}
}
