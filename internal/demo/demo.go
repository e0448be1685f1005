package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"rcds/capture"
	"rcds/hi"
	"rcds/x1"
)

// Demo identifiers.
const (
	LIID      = "DEMO-LIID-0001"
	ADMFID    = "rcds-demo-admf"
	NEID      = "rcds-demo"
	minPrivat = 12 // shortest private text searched for in the received bytes
)

// ErrLeak is returned when something about a non-target reached the LEMF.
var ErrLeak = errors.New("demo: data about non-targets reached the LEMF")

// ErrIncomplete is returned when the LEMF did not receive what it should.
var ErrIncomplete = errors.New("demo: the LEMF did not receive the target's traffic")

// Options configure Run.
type Options struct {
	// Dir is the working directory (certificates, database, LEMF raw
	// files). Empty: a new temporary directory, removed at the end unless
	// Keep.
	Dir  string
	Keep bool
	// Seed and Sessions shape the generated capture (defaults 1 and 8).
	Seed     int64
	Sessions int
	// Timeout bounds the whole run (default 50 s).
	Timeout time.Duration
	// Logger receives the components' logs (nil: discard).
	Logger *slog.Logger
}

// Summary is what the demo found.
type Summary struct {
	Dir          string
	Packets      uint64
	Connections  uint64
	Events       uint64 // decoded, all users
	Users        int    // distinct passports in the capture
	Expect       Expectation
	Records      int            // IRI and CC records received
	IRI, CC      int            // of which IRI (HI2) and CC (HI3)
	Categories   map[string]int // IRI records per category
	ContentTypes map[string]int // CC records per content type
	Messages     int            // expected text messages found in CC content
	Missing      []string       // expected text messages not received
	Bytes        int            // bytes received by the LEMF, all connections
	Leaks        []string       // non-target passports or private texts found in them
	Duplicates   int
	Errors       int // records the LEMF could not decode
}

// OK reports whether the run passed: records arrived, every expected
// message among them, nothing leaked, nothing undecodable.
func (s *Summary) OK() error {
	switch {
	case len(s.Leaks) > 0:
		return fmt.Errorf("%w: %d findings", ErrLeak, len(s.Leaks))
	case s.Records == 0:
		return fmt.Errorf("%w: nothing arrived", ErrIncomplete)
	case len(s.Missing) > 0:
		return fmt.Errorf("%w: %d of %d messages missing", ErrIncomplete, len(s.Missing), len(s.Expect.Messages))
	case s.Errors > 0:
		return fmt.Errorf("%w: %d records could not be decoded", ErrIncomplete, s.Errors)
	}
	return nil
}

// record is a copy of what the LEMF handed to OnRecord.
type record struct {
	hi.LEMFRecord
	n int // arrival order
}

// Run plays the demo and writes its report to w: a capture is generated,
// the serve components and a LEMF are started on loopback, a destination
// pair and a task are provisioned over X1 with mutual TLS, the capture is
// replayed, and what the LEMF received is shown and checked. The error is
// nil only when the summary is OK.
func Run(ctx context.Context, opt Options, w io.Writer) (sum *Summary, err error) {
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 50 * time.Second
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()

	dir := opt.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "rcds-demo-"); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if !opt.Keep {
			defer func() {
				if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
					err = fmt.Errorf("demo: remove %s: %w", dir, rerr)
				}
			}()
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	sum = &Summary{Dir: dir, Categories: map[string]int{}, ContentTypes: map[string]int{}}
	start := time.Now()

	// 1. The capture.
	capt, err := Generate(opt.Seed, opt.Sessions)
	if err != nil {
		return sum, err
	}
	sum.Expect = Expect(capt.Events, Target)
	users := map[string]bool{}
	for i := range capt.Events {
		for _, n := range identities(&capt.Events[i]) {
			users[n] = true
		}
	}
	sum.Users = len(users)
	pcapPath := filepath.Join(dir, "demo.pcap")
	if err := os.WriteFile(pcapPath, capt.Pcap, 0o600); err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(w, "RCDS demo: %s intercepted among %d MSN users\n\n", Target, sum.Users)
	fmt.Fprintf(w, "  capture   %s: %d packets, %d login sessions, %d switchboards (generated, seed %d)\n",
		pcapPath, capt.Result.Packets, capt.Result.Sessions, capt.Result.Switchboards, opt.Seed)

	// 2. Certificates, the LEMF and the serve components.
	pki, err := x1.NewDemoPKI(nil, ADMFID)
	if err != nil {
		return sum, err
	}
	if _, err := pki.Write(filepath.Join(dir, "pki")); err != nil {
		return sum, err
	}
	serverTLS, err := pki.ServerTLS()
	if err != nil {
		return sum, err
	}
	clientTLS, err := pki.ClientTLS(true)
	if err != nil {
		return sum, err
	}

	var (
		mu      sync.Mutex
		records []record
	)
	lemf, err := hi.NewLEMF(hi.LEMFConfig{
		HI2Listen: "127.0.0.1:0",
		HI3Listen: "127.0.0.1:0",
		RawDir:    filepath.Join(dir, "lemf"),
		OnRecord: func(r *hi.LEMFRecord) {
			c := *r
			c.Raw = nil
			c.Content = append([]byte(nil), r.Content...)
			c.Parties = append([]string(nil), r.Parties...)
			c.To = append([]string(nil), r.To...)
			mu.Lock()
			records = append(records, record{LEMFRecord: c, n: len(records)})
			mu.Unlock()
		},
	}, log.With("component", "lemf"))
	if err != nil {
		return sum, err
	}
	if err := lemf.Listen(); err != nil {
		return sum, err
	}
	lctx, lstop := context.WithCancel(context.WithoutCancel(ctx))
	lemfDone := make(chan error, 1)
	go func() { lemfDone <- lemf.Serve(lctx) }()
	defer func() {
		lstop()
		if lerr := <-lemfDone; lerr != nil && err == nil {
			err = lerr
		}
	}()

	st, err := StartStack(ctx, StackConfig{
		Dir:    filepath.Join(dir, "data"),
		X1TLS:  serverTLS,
		NEID:   NEID,
		Logger: log,
		MDF: hi.MDFConfig{
			OperatorID: "DEMO", CountryCode: "XX", NetworkElementID: NEID,
			Timings: hi.DeliveryTimings{ProbeEvery: 16},
		},
	})
	if err != nil {
		return sum, err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	fmt.Fprintf(w, "  X1        %s (mutual TLS, fresh demo CA in %s)\n", st.X1URL(), filepath.Join(dir, "pki"))
	fmt.Fprintf(w, "  LEMF      HI2 %s, HI3 %s\n", lemf.HI2Addr(), lemf.HI3Addr())

	// 3. Provisioning over X1, as an ADMF would.
	cl := x1.NewClient(st.X1URL(), clientTLS, ADMFID, NEID)
	defer cl.Close()
	hi2 := x1.Destination{DID: x1.NewUUID(), FriendlyName: "demo LEMF HI2", DeliveryType: x1.X2Only, Address: lemf.HI2Addr()}
	hi3 := x1.Destination{DID: x1.NewUUID(), FriendlyName: "demo LEMF HI3", DeliveryType: x1.X3Only, Address: lemf.HI3Addr()}
	for _, d := range []x1.Destination{hi2, hi3} {
		if _, err := cl.CreateDestination(ctx, d); err != nil {
			return sum, fmt.Errorf("demo: X1 CreateDestination: %w", err)
		}
	}
	task := x1.Task{
		XID:          x1.NewUUID(),
		Targets:      []x1.Target{{Kind: x1.TargetEmail, Value: Target}},
		DeliveryType: x1.X2andX3,
		DIDs:         []string{hi2.DID, hi3.DID},
		Mediation: []x1.MediationDetails{{
			LIID: LIID, DeliveryType: x1.HI2andHI3, DIDs: []string{hi2.DID, hi3.DID},
		}},
	}
	if _, err := cl.ActivateTask(ctx, task); err != nil {
		return sum, fmt.Errorf("demo: X1 ActivateTask: %w", err)
	}
	fmt.Fprintf(w, "  X1 client CreateDestination HI2 %s, CreateDestination HI3 %s, ActivateTask %s (target %s, LIID %s): OK\n\n",
		short(hi2.DID), short(hi3.DID), short(task.XID), Target, LIID)

	// 4. Replay the capture through the POI and the MDF; wait until the
	// LEMF has confirmed every record.
	src, err := capture.OpenFile(pcapPath)
	if err != nil {
		return sum, err
	}
	rerr := st.Replay(ctx, src)
	src.Close()
	if rerr != nil {
		return sum, rerr
	}
	cs, ms := st.Engine.Stats(), st.Mux.Stats()
	sum.Packets, sum.Connections, sum.Events = cs.Packets, ms.Conns, ms.TotalEvents()
	if st.MDF.Stats().Records > 0 {
		if err := st.WaitDrained(ctx); err != nil {
			return sum, err
		}
	}

	// 5. Show and check what arrived.
	mu.Lock()
	got := append([]record(nil), records...)
	mu.Unlock()
	show(w, got)
	tally(sum, got)
	if err := scanRaw(sum, filepath.Join(dir, "lemf")); err != nil {
		return sum, err
	}
	printSummary(w, sum, time.Since(start), opt.Keep || opt.Dir != "")
	return sum, sum.OK()
}

// short abbreviates a UUID for display.
func short(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

// show prints the records in time order, IRI before CC of one event.
func show(w io.Writer, recs []record) {
	data := recs[:0:0]
	for _, r := range recs {
		if r.Kind == "iri" || r.Kind == "cc" {
			data = append(data, r)
		}
	}
	sort.SliceStable(data, func(i, j int) bool {
		a, b := data[i], data[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.Kind != b.Kind {
			return a.Kind == "iri"
		}
		return a.n < b.n
	})
	// The parties of a content record are those of its IRI (same event).
	parties := map[uint32]string{}
	for _, r := range data {
		if r.Kind == "iri" && r.EventID != nil {
			parties[*r.EventID] = partyString(&r.LEMFRecord)
		}
	}
	type line struct{ time, liid, cin, hi, kind, what string }
	lines := make([]line, 0, len(data))
	wk := len("kind")
	for _, r := range data {
		cin := "-"
		if r.CIN != nil {
			cin = fmt.Sprint(*r.CIN)
		}
		var kind, what string
		switch r.Kind {
		case "iri":
			kind = "IRI " + r.IRIType + " " + r.Category
			what = partyString(&r.LEMFRecord)
			if r.Subject != "" {
				what += fmt.Sprintf(" %q", hi.Printable(r.Subject, 60))
			}
		case "cc":
			kind = "CC " + r.ContentType
			if r.EventID != nil {
				what = parties[*r.EventID]
			}
			what += ": " + contentString(&r.LEMFRecord)
		}
		lines = append(lines, line{r.Time.UTC().Format("2006-01-02 15:04:05.000"), r.LIID, cin, strings.ToUpper(r.HI), kind, what})
		wk = max(wk, len(kind))
	}
	fmt.Fprintf(w, "What the LEMF received (%d records):\n", len(data))
	fmt.Fprintf(w, "  %-23s %-15s %4s  %-4s %-*s  %s\n", "time (packet)", "LIID", "CIN", "HI", wk, "kind", "parties / content")
	for _, l := range lines {
		fmt.Fprintf(w, "  %-23s %-15s %4s  %-4s %-*s  %s\n", l.time, l.liid, l.cin, l.hi, wk, l.kind, l.what)
	}
	fmt.Fprintln(w)
}

func partyString(r *hi.LEMFRecord) string {
	switch {
	case len(r.To) > 0:
		return r.From + " -> " + strings.Join(r.To, ", ")
	case r.From != "":
		return r.From
	}
	return strings.Join(r.Parties, ", ")
}

// contentString renders the content of a CC record: text as text, other
// types as a size.
func contentString(r *hi.LEMFRecord) string {
	if t, ok := text(r); ok {
		s := fmt.Sprintf("%q", hi.Printable(t, 100))
		if cs := charset(r.ContentType); cs != "" && !strings.EqualFold(cs, "utf-8") {
			s += " (" + cs + ")"
		}
		return s
	}
	return fmt.Sprintf("(%d bytes)", len(r.Content))
}

// text returns the content of a text/plain record as UTF-8, decoded from
// the charset its content type names.
func text(r *hi.LEMFRecord) (string, bool) {
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.ContentType)), "text/plain") {
		return "", false
	}
	if cs := charset(r.ContentType); cs != "" && !strings.EqualFold(cs, "utf-8") {
		enc, err := htmlindex.Get(cs)
		if err != nil {
			return "", false
		}
		b, err := enc.NewDecoder().Bytes(r.Content)
		if err != nil || !utf8.Valid(b) {
			return "", false
		}
		return string(b), true
	}
	if !utf8.Valid(r.Content) {
		return "", false
	}
	return string(r.Content), true
}

// charset returns the charset parameter of a content type.
func charset(ct string) string {
	for _, p := range strings.Split(ct, ";")[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "charset") {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// tally counts the records and checks the expected messages against the
// text content received.
func tally(sum *Summary, recs []record) {
	texts := map[string]bool{}
	for _, r := range recs {
		switch r.Kind {
		case "iri":
			sum.IRI++
			sum.Categories[r.Category]++
		case "cc":
			sum.CC++
			ct := r.ContentType
			if i := strings.IndexByte(ct, ';'); i >= 0 {
				ct = ct[:i]
			}
			sum.ContentTypes[strings.TrimSpace(ct)]++
			if t, ok := text(&r.LEMFRecord); ok {
				texts[t] = true
			}
		case "error":
			sum.Errors++
		}
		if r.Duplicate {
			sum.Duplicates++
		}
		if r.Error != "" && r.Kind != "error" {
			sum.Errors++
		}
	}
	sum.Records = sum.IRI + sum.CC
	for _, m := range sum.Expect.Messages {
		if texts[m] {
			sum.Messages++
		} else {
			sum.Missing = append(sum.Missing, m)
		}
	}
}

// scanRaw searches every byte the LEMF received for the outsiders'
// passports and the private texts.
func scanRaw(sum *Summary, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "hi*.ber"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		all = append(all, b...)
		all = append(all, 0)
	}
	sum.Bytes = len(all) - len(files)
	lower := bytes.ToLower(all)
	for _, p := range sum.Expect.Outsiders {
		if bytes.Contains(lower, []byte(p)) {
			sum.Leaks = append(sum.Leaks, "passport "+p)
		}
	}
	for _, t := range checkedPrivate(sum.Expect) {
		if bytes.Contains(all, []byte(t)) {
			sum.Leaks = append(sum.Leaks, fmt.Sprintf("message text %q", t))
		}
	}
	return nil
}

// checkedPrivate are the private texts long enough to search for and not
// part of any of the target's messages.
func checkedPrivate(x Expectation) []string {
	var out []string
	for _, t := range x.Private {
		if len(t) < minPrivat {
			continue
		}
		inTarget := false
		for _, m := range x.Messages {
			if strings.Contains(m, t) {
				inTarget = true
				break
			}
		}
		if !inTarget {
			out = append(out, t)
		}
	}
	return out
}

func printSummary(w io.Writer, s *Summary, took time.Duration, kept bool) {
	fmt.Fprintln(w, "Summary")
	fmt.Fprintf(w, "  capture      %d packets, %d connections, %d events decoded for %d users\n",
		s.Packets, s.Connections, s.Events, s.Users)
	fmt.Fprintf(w, "  target       %d events involve %s\n", s.Expect.TargetEvents, Target)
	fmt.Fprintf(w, "  LEMF         %d records: %d IRI on HI2, %d CC on HI3 (%d duplicates, %d errors)\n",
		s.Records, s.IRI, s.CC, s.Duplicates, s.Errors)
	wk := 0
	for k := range s.Categories {
		wk = max(wk, len(k))
	}
	for k := range s.ContentTypes {
		wk = max(wk, len(k))
	}
	for _, k := range sortedKeys(s.Categories) {
		fmt.Fprintf(w, "    IRI %-*s %3d\n", wk, k, s.Categories[k])
	}
	for _, k := range sortedKeys(s.ContentTypes) {
		fmt.Fprintf(w, "    CC  %-*s %3d\n", wk, k, s.ContentTypes[k])
	}
	fmt.Fprintf(w, "  messages     %d of %d of the target's text messages delivered\n", s.Messages, len(s.Expect.Messages))
	for _, m := range s.Missing {
		fmt.Fprintf(w, "    missing: %q\n", m)
	}
	if len(s.Leaks) == 0 {
		fmt.Fprintf(w, "  leaked: none (%d bytes received searched for %d non-target passports and %d private message texts)\n",
			s.Bytes, len(s.Expect.Outsiders), len(checkedPrivate(s.Expect)))
	} else {
		fmt.Fprintf(w, "  leaked: %d findings\n", len(s.Leaks))
		for _, l := range s.Leaks {
			fmt.Fprintf(w, "    LEAK %s\n", l)
		}
	}
	fmt.Fprintf(w, "  took         %s", took.Round(time.Millisecond))
	if kept {
		fmt.Fprintf(w, "; files kept in %s", s.Dir)
	}
	fmt.Fprintln(w)
	if err := s.OK(); err != nil {
		fmt.Fprintf(w, "  RESULT: FAIL: %v\n", err)
	} else {
		fmt.Fprintln(w, "  RESULT: OK")
	}
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
