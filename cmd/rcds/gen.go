package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"rcds/decoder"
	"rcds/internal/msngen"
)

// genOptions are the flags of `rcds gen`.
type genOptions struct {
	seed        int64
	size        string
	sessions    int
	users       int
	concurrency int
	versions    string
	seg         string
	mss         int
	segChance   float64
	noise       float64
	format      string
	link        string
	ipv6        float64
	messages    int
	targets     []string
	start       string
	spacing     time.Duration
	out         string
	expect      string
}

func newGenCommand(g *globalOptions) *cobra.Command {
	o := &genOptions{}
	cmd := &cobra.Command{
		Use:   "gen --out FILE [--size 100MiB | --sessions N] [--expect FILE.jsonl] [flags]",
		Short: "Generate an MSN Messenger capture (pcap/pcapng) and its expected events",
		Long: "Generate a capture of realistic MSNP sessions mixed with non-MSN noise, with controlled\n" +
			"TCP segmentation, deterministic by seed; --expect writes the events a decoder must report\n" +
			"(the `rcds decode` JSON lines). A one-line summary goes to stdout.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGen(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.Int64Var(&o.seed, "seed", 1, "random seed: the same flags give byte-identical output")
	f.StringVar(&o.size, "size", "", "stop after about this much capture (e.g. 100MiB, 1GiB); overrides --sessions")
	f.IntVar(&o.sessions, "sessions", 0, "NS login sessions to generate (default 10 when --size is not given)")
	f.IntVar(&o.users, "users", 0, "distinct passports (user000@example.com, ...) (default 50)")
	f.IntVar(&o.concurrency, "concurrency", 0, "sessions open at once (default 4)")
	f.StringVar(&o.versions, "versions", "", "MSNP versions to draw from, e.g. 8,15 (default 8,9,11,12,15,18)")
	f.StringVar(&o.seg, "seg", "", "segmentation pathologies: split,coalesce,reorder,retransmit,overlap,nohandshake, all or none")
	f.IntVar(&o.mss, "mss", 0, "largest TCP payload per segment (default 1460)")
	f.Float64Var(&o.segChance, "seg-chance", 0, "probability that an enabled pathology hits a burst (default 0.5)")
	f.Float64Var(&o.noise, "noise", 0, "fraction of non-MSN packets, 0 to 0.95")
	f.StringVar(&o.format, "format", "pcap", "output format: pcap or pcapng")
	f.StringVar(&o.link, "link", "ethernet", "link type: ethernet, vlan or sll")
	f.Float64Var(&o.ipv6, "ipv6", 0, "fraction of connections over IPv6, 0 to 1")
	f.IntVar(&o.messages, "messages", 0, "mean chat lines per switchboard (default 8)")
	f.StringSliceVar(&o.targets, "targets", nil, "passports that must log in and chat (comma-separated)")
	f.StringVar(&o.start, "start", "", "time of the first packet, RFC 3339 (default 2006-03-14T12:00:00Z)")
	f.DurationVar(&o.spacing, "spacing", 0, "mean gap between packets (default 200µs)")
	f.StringVar(&o.out, "out", "", "capture file to write (required; - for stdout)")
	f.StringVar(&o.expect, "expect", "", "write the expected events to this JSON-lines file")
	return cmd
}

// options turns the flags into generator options.
func (o *genOptions) options() (msngen.Options, error) {
	opt := msngen.Options{
		Seed: o.seed, Sessions: o.sessions, Users: o.users, Concurrency: o.concurrency,
		Noise: o.noise, Format: o.format, IPv6: o.ipv6, MessagesPerSwitchboard: o.messages,
		Spacing: o.spacing, Targets: o.targets,
		Seg: msngen.Segmentation{MSS: o.mss, Chance: o.segChance},
	}
	var err error
	if o.size != "" {
		if opt.TargetBytes, err = msngen.ParseSize(o.size); err != nil {
			return opt, fmt.Errorf("gen: --size: %w", err)
		}
	}
	if o.versions != "" {
		if opt.Versions, err = msngen.ParseVersions(o.versions); err != nil {
			return opt, fmt.Errorf("gen: --versions: %w", err)
		}
	}
	if opt.Seg.Flags, err = msngen.ParseSegFlags(o.seg); err != nil {
		return opt, fmt.Errorf("gen: --seg: %w", err)
	}
	if opt.Link, err = msngen.ParseLinkType(o.link); err != nil {
		return opt, fmt.Errorf("gen: --link: %w", err)
	}
	if o.start != "" {
		if opt.Start, err = time.Parse(time.RFC3339Nano, o.start); err != nil {
			return opt, fmt.Errorf("gen: --start: %w", err)
		}
	}
	return opt, nil
}

func runGen(ctx context.Context, o *genOptions, stdout io.Writer) (err error) {
	if o.out == "" {
		return errors.New("gen: --out is required")
	}
	opt, err := o.options()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var w io.Writer = stdout
	if o.out != "-" {
		f, err := os.Create(o.out)
		if err != nil {
			return fmt.Errorf("gen: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("gen: %w", cerr)
			}
		}()
		w = f
	}
	var expect func(*decoder.Event)
	var ew *bufio.Writer
	var ewErr error
	if o.expect != "" {
		ef, err := os.Create(o.expect)
		if err != nil {
			return fmt.Errorf("gen: --expect: %w", err)
		}
		defer func() {
			if cerr := ef.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("gen: --expect: %w", cerr)
			}
		}()
		ew = bufio.NewWriterSize(ef, 1<<20)
		var line []byte
		expect = func(e *decoder.Event) {
			line = append(decoder.AppendJSON(line[:0], e), '\n')
			if _, werr := ew.Write(line); werr != nil && ewErr == nil {
				ewErr = werr
			}
		}
	}
	// The generator's heap is small and short-lived: collecting it less
	// often is a third faster; the soft limit keeps a large --concurrency
	// from growing the heap fivefold.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(256 << 20))
	start := time.Now()
	res, err := msngen.GenerateContext(ctx, w, opt, expect)
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if ew != nil {
		if ewErr == nil {
			ewErr = ew.Flush()
		}
		if ewErr != nil {
			return fmt.Errorf("gen: --expect: %w", ewErr)
		}
	}
	if o.out == "-" {
		return nil // stdout carries the capture
	}
	secs := time.Since(start).Seconds()
	mbps := 0.0
	if secs > 0 {
		mbps = float64(res.Bytes) / 1e6 / secs
	}
	_, err = fmt.Fprintf(stdout, "gen: wrote %s: %d packets, %d bytes, %d sessions, %d switchboards, %d expected events (%.1f MB/s)\n",
		strings.TrimSpace(o.out), res.Packets, res.Bytes, res.Sessions, res.Switchboards, res.Events, mbps)
	return err
}
