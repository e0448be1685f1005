package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"rcds/capture"
	"rcds/decoder"
	"rcds/decoder/msnp"
)

// decodeOptions are the flags of `rcds decode`.
type decodeOptions struct {
	format  string
	targets []string
	// progress forces the progress bar on ("always") or off ("never");
	// "auto" shows it when stderr is a terminal and a file is large.
	progress string
}

func newDecodeCommand(g *globalOptions) *cobra.Command {
	o := &decodeOptions{}
	cmd := &cobra.Command{
		Use:   "decode [--format jsonl|text] [--target PASSPORT_OR_IP]... FILE...",
		Short: "Decode MSN Messenger (MSNP) events from pcap/pcapng files",
		Long: "Decode MSN Messenger (MSNP) events from pcap/pcapng files: one JSON object per line\n" +
			"(or one text line per event) on stdout, a one-line summary on stderr. With --target,\n" +
			"only events involving a target (owned by, sent by or sent to it) are printed.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			logger, err := g.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return runDecode(cmd.Context(), o, args, cmd.OutOrStdout(), cmd.ErrOrStderr(), logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "jsonl", "output format: jsonl or text (none: decode only, print nothing; for benchmarks)")
	f.StringArrayVar(&o.targets, "target", nil, "print only events involving this passport, IP address or CIDR prefix (repeatable)")
	f.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto, always or never")
	return cmd
}

// progressMinBytes is the file size from which "auto" shows a progress bar.
const progressMinBytes = 32 << 20

// runDecode decodes files and writes their events to out.
func runDecode(ctx context.Context, o *decodeOptions, files []string, out, errOut io.Writer, logger *slog.Logger) error {
	var appendEvent func([]byte, *decoder.Event) []byte
	switch o.format {
	case "jsonl", "json":
		appendEvent = decoder.AppendJSON
	case "text":
		appendEvent = decoder.AppendText
	case "none":
		// Decode to events and print none of them: the "output discarded"
		// figure of bench/decode.sh (BENCHMARKS.md).
	default:
		return fmt.Errorf("decode: --format %q is not jsonl or text", o.format)
	}
	switch o.progress {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("decode: --progress %q is not auto, always or never", o.progress)
	}
	var targets decoder.Targets
	for _, s := range o.targets {
		t, err := decoder.ParseTarget(s)
		if err != nil {
			return fmt.Errorf("decode: --target: %w", err)
		}
		targets = append(targets, t)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := bufio.NewWriterSize(out, 256<<10)
	var (
		line     []byte
		printed  uint64
		writeErr error
	)
	emit := decoder.EmitterFunc(func(e *decoder.Event) {
		if writeErr != nil || (len(targets) > 0 && !targets.Involves(e)) {
			return
		}
		if appendEvent == nil {
			printed++
			return
		}
		line = appendEvent(line[:0], e)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			writeErr = err
			cancel()
			return
		}
		printed++
	})
	mux := decoder.NewMux(logger, emit, msnp.New(logger, msnp.Options{}))
	cfg := capture.DefaultConfig()
	cfg.Logger = logger

	var total capture.Stats
	var failed []string
	for _, path := range files {
		st, err := decodeFile(ctx, path, cfg, mux, o.progress, errOut)
		total.Packets += st.Packets
		total.Bytes += st.Bytes
		total.Flows += st.Flows
		if writeErr != nil {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// Keep going: the packets before the problem were decoded.
			fmt.Fprintf(errOut, "rcds decode: %v\n", err)
			failed = append(failed, filepath.Base(path))
		}
	}
	if err := w.Flush(); err != nil && writeErr == nil {
		writeErr = err
	}
	ms := mux.Stats()
	summary := fmt.Sprintf("rcds decode: %d packets, %d bytes, %d flows, %d events, %d errors",
		total.Packets, total.Bytes, total.Flows, ms.TotalEvents(), ms.Errors)
	if len(targets) > 0 {
		summary += fmt.Sprintf(", %d printed for the targets", printed)
	}
	fmt.Fprintln(errOut, summary)
	switch {
	case writeErr != nil:
		return fmt.Errorf("decode: write output: %w", writeErr)
	case ctx.Err() != nil:
		return fmt.Errorf("decode: %w", ctx.Err())
	case len(failed) > 0:
		return fmt.Errorf("decode: %d of %d files could not be read to the end", len(failed), len(files))
	}
	return nil
}

// decodeFile runs one capture file through the engine into mux.
func decodeFile(ctx context.Context, path string, cfg capture.Config, mux *decoder.Mux, progress string, errOut io.Writer) (capture.Stats, error) {
	src, err := capture.OpenFile(path)
	if err != nil {
		return capture.Stats{}, err
	}
	defer src.Close()
	eng := capture.NewEngine(cfg, mux)
	stop := startProgress(src, filepath.Base(path), progress, errOut)
	err = eng.Run(ctx, src)
	stop()
	if err != nil {
		return eng.Stats(), fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return eng.Stats(), nil
}

// startProgress draws a progress bar for src on errOut when asked to, or,
// for "auto", when errOut is a terminal and the file is large. The returned
// function stops it and clears the line.
func startProgress(src *capture.FileSource, name, mode string, errOut io.Writer) func() {
	_, total := src.Progress()
	show := mode == "always"
	if mode == "auto" {
		f, ok := errOut.(*os.File)
		show = ok && term.IsTerminal(int(f.Fd())) && total >= progressMinBytes
	}
	if !show {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(errOut, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprint(errOut, progressLine(name, src))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func progressLine(name string, src *capture.FileSource) string {
	read, total := src.Progress()
	const width = 30
	if total <= 0 {
		return fmt.Sprintf("\r%s %d MiB", name, read>>20)
	}
	frac := min(float64(read)/float64(total), 1)
	n := int(frac * width)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < n {
			bar[i] = '='
		}
	}
	return fmt.Sprintf("\r%s [%s] %5.1f%% %d/%d MiB", name, bar, 100*frac, read>>20, total>>20)
}
