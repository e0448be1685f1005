package x2x3

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"rcds/decoder"
	"rcds/internal/msngen"
	"rcds/x1"
)

const (
	poiXIDA = "a3000000-0000-4000-8000-00000000000a"
	poiXIDB = "a3000000-0000-4000-8000-00000000000b"
)

// busyOptions is a busy capture: 20 users, 2 of them targets, many
// conversations (also between non-targets), every segmentation pathology,
// noise and some IPv6.
func busyOptions(targets ...string) msngen.Options {
	return msngen.Options{
		Seed:        4,
		Users:       20,
		Sessions:    30,
		Concurrency: 6,
		Targets:     targets,
		Seg:         msngen.Segmentation{Flags: msngen.AllSeg, MSS: 256, Chance: 0.5},
		Noise:       0.2,
		IPv6:        0.2,
	}
}

// TestPOIBusyCaptureOnlyTargets: 2 of 20 users are targets; every PDU is
// about them, decodes with our reader, and matches the generator's expected
// events (kind and category, parties, content bytes, IRI/CC pairing,
// correlation IDs); no identity of a user who never talks to a target
// appears in the output or in the logs.
func TestPOIBusyCaptureOnlyTargets(t *testing.T) {
	var dups uint64
	for _, seed := range []int64{4, 5, 6, 16} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { dups += busyCapture(t, seed) })
	}
	// Copies of one message on the sender's and the recipients' captured
	// connections occur in these captures: the duplicate rule was at work.
	if dups < 50 {
		t.Errorf("only %d copies suppressed in all: the captures do not exercise the duplicate rule", dups)
	}
}

func busyCapture(t *testing.T, seed int64) uint64 {
	ta, tb := msngen.Passport(0), msngen.Passport(1)
	opt := busyOptions(ta, tb)
	opt.Seed = seed
	g := generate(t, opt)
	// Task B names its target with another case: passports compare
	// case-insensitively, and attribute 17 carries the target as provisioned.
	tbProvisioned := strings.ToUpper(tb[:4]) + tb[4:]

	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := newTestRegistry(t)
	activate(t, reg, newTask(poiXIDA, x1.X2andX3, []string{ta}))
	activate(t, reg, newTask(poiXIDB, x1.X2andX3, []string{tbProvisioned},
		[2]time.Time{time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2007, 1, 1, 0, 0, 0, 0, time.UTC)}))
	sink := &memSink{}
	poi := NewPOI(POIConfig{}, reg, sink, logger)
	defer poi.Close()
	replay(t, g.pcap, poi, logger, nil)
	if err := poi.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	ds, stream := decodeStream(t, sink.all())
	always := func(time.Time) bool { return true }
	for _, c := range []struct {
		xid, target, provisioned string
	}{{poiXIDA, ta, ta}, {poiXIDB, tb, tbProvisioned}} {
		x := mustXID(t, c.xid)
		want := expectedFor(g.events, x, c.target, true, always)
		got := gotSignatures(t, ds, x, c.provisioned, true, true)
		diffSignatures(t, "task "+c.xid, got, want)
		if len(want) < 50 {
			t.Errorf("task %s: only %d expected records; the capture is not busy enough", c.xid, len(want))
		}
	}
	st := poi.Stats()
	if st.X2+st.X3 != uint64(len(ds)) || st.EncodeErrors != 0 || st.SendErrors != 0 || st.Tasks != 2 {
		t.Errorf("stats %+v for %d PDUs", st, len(ds))
	}

	// The third-party property. Exposed: everyone named in an event that
	// involves a target. Everybody else must not appear anywhere.
	targets := decoder.Targets{}
	for _, s := range []string{ta, tb} {
		tg, _ := decoder.ParseTarget(s)
		targets = append(targets, tg)
	}
	exposed := map[string]bool{}
	thirdPartyMsgs := 0
	for i := range g.events {
		e := &g.events[i]
		if targets.Involves(e) {
			for _, p := range e.Parties() {
				exposed[strings.ToLower(p)] = true
			}
		} else if isMSG(e.Kind) {
			thirdPartyMsgs++
		}
	}
	if thirdPartyMsgs < 20 {
		t.Fatalf("only %d messages between non-targets: the test would prove nothing", thirdPartyMsgs)
	}
	out := bytes.ToLower(stream)
	logBytes := bytes.ToLower(logs.Bytes())
	if len(logBytes) == 0 {
		t.Fatal("nothing logged: the log check would prove nothing")
	}
	var hidden []string
	for i := range 20 {
		p := msngen.Passport(i)
		if exposed[p] {
			continue
		}
		hidden = append(hidden, p)
		if bytes.Contains(out, []byte(p)) {
			t.Errorf("%s never talks to a target but is in the X2/X3 output", p)
		}
		if bytes.Contains(logBytes, []byte(p)) {
			t.Errorf("%s never talks to a target but is in the logs", p)
		}
	}
	// Every passport of the pool is in the capture's events; at least a
	// few must be strangers to the targets for the check to mean anything.
	if len(hidden) < 3 {
		t.Fatalf("only %d users never talk to a target (%v)", len(hidden), hidden)
	}
	t.Logf("%d PDUs (%d X2, %d X3, %d duplicates suppressed) for 2 targets among 20 users; %d users never in contact with them, %d messages between non-targets",
		len(ds), st.X2, st.X3, st.Duplicates, len(hidden), thirdPartyMsgs)
	return st.Duplicates
}
