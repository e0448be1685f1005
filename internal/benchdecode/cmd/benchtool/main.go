// Command benchtool is the helper bench/decode.sh runs beside rcds:
//
//	benchtool bare FILE
//	    the baseline: read FILE with pcapgo and decode each packet's layers
//	    with a DecodingLayerParser (capture.BareLoop), nothing else.
//	benchtool check --msgsnarf OUT [--events EVENTS.jsonl]
//	    the cross-check: every MSN chat line msgsnarf printed (OUT) must be
//	    among our message events (rcds decode JSON lines, stdin by default).
//	    Exit status 1 when one is missing.
//
// It is a benchmark aid, not part of the product.
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"rcds/capture"
	"rcds/internal/benchdecode"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errCheckFailed makes run exit 1 without a usage message.
var errCheckFailed = errors.New("cross-check failed")

func run(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: benchtool bare FILE | benchtool check --msgsnarf OUT [--events FILE]")
		return 2
	}
	var err error
	switch args[0] {
	case "bare":
		err = runBare(args[1:], stdout)
	case "check":
		err = runCheck(args[1:], stdin, stdout)
	default:
		err = fmt.Errorf("unknown command %q (bare or check)", args[0])
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errCheckFailed):
		return 1
	}
	fmt.Fprintln(stderr, "benchtool:", err)
	return 2
}

func runBare(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("bare: want one FILE")
	}
	fi, err := os.Stat(args[0])
	if err != nil {
		return fmt.Errorf("bare: %w", err)
	}
	n, err := capture.BareLoop(args[0])
	if err != nil {
		return fmt.Errorf("bare: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "bare loop: %d packets, %d bytes of file\n", n, fi.Size())
	return err
}

func runCheck(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	snarfPath := fs.String("msgsnarf", "", "msgsnarf's output (required)")
	eventsPath := fs.String("events", "-", "our events, rcds decode JSON lines (- for stdin)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if *snarfPath == "" || fs.NArg() > 0 {
		return errors.New("check: want --msgsnarf OUT and no arguments")
	}
	snarf, err := os.Open(*snarfPath)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer snarf.Close()
	events := stdin
	if *eventsPath != "-" {
		f, err := os.Open(*eventsPath)
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		defer f.Close()
		events = f
	}
	rep, err := benchdecode.CrossCheck(events, snarf)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	printReport(stdout, rep)
	if !rep.OK() {
		return errCheckFailed
	}
	return nil
}

// printReport writes the cross-check as "key value" lines (read by
// bench/decode.sh) and the kinds of events we found.
func printReport(w io.Writer, rep benchdecode.CheckReport) {
	fmt.Fprintf(w, "msgsnarf_msn_lines %d\n", rep.SnarfMSN)
	fmt.Fprintf(w, "msgsnarf_other_lines %d\n", rep.SnarfOther)
	fmt.Fprintf(w, "matched %d\n", rep.Matched)
	fmt.Fprintf(w, "missing %d\n", rep.MissingCount)
	fmt.Fprintf(w, "our_messages %d\n", rep.Messages())
	fmt.Fprintf(w, "our_extra_messages %d\n", rep.Extra)
	total := 0
	kinds := make([]string, 0, len(rep.Events))
	for k, n := range rep.Events {
		kinds = append(kinds, k)
		total += n
	}
	slices.Sort(kinds)
	fmt.Fprintf(w, "our_events %d\n", total)
	for _, k := range kinds {
		fmt.Fprintf(w, "our_kind_%s %d\n", k, rep.Events[k])
	}
	for _, m := range rep.Missing {
		// Digests, not text: the capture might hold real people's chats.
		fmt.Fprintf(w, "missing_line sender_sha256=%x text_sha256=%x text_bytes=%d\n",
			sha256.Sum256([]byte(m.Sender)), sha256.Sum256(m.Text), len(m.Text))
	}
}
