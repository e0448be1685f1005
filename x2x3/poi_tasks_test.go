package x2x3

import (
	"context"
	"strings"
	"testing"
	"time"

	"rcds/decoder"
	"rcds/internal/msngen"
	"rcds/x1"
)

// oneTarget is a busy capture around one target.
func oneTarget(t *testing.T, seed int64) (*generated, string, []time.Time) {
	t.Helper()
	target := msngen.Passport(0)
	opt := busyOptions(target)
	opt.Seed = seed
	opt.Sessions = 16
	g := generate(t, opt)
	return g, target, packetTimes(t, g.pcap)
}

// splitPoint picks the target's busiest login session and returns a packet
// index n (0-based) at the median of the target's events during it, such
// that packet n is strictly later than packet n-1, its time, and the
// session's correlation ID.
func splitPoint(t *testing.T, g *generated, target string, times []time.Time) (int, time.Time, uint64) {
	t.Helper()
	tg, _ := decoder.ParseTarget(target)
	type session struct{ in, out time.Time }
	sessions := map[uint64]*session{}
	for i := range g.events {
		e := &g.events[i]
		if !strings.EqualFold(e.User, target) || e.Role != decoder.RoleNotification {
			continue
		}
		switch e.Kind {
		case decoder.KindLogin:
			sessions[e.Comm] = &session{in: e.Time}
		case decoder.KindLogout:
			if s := sessions[e.Comm]; s != nil {
				s.out = e.Time
			}
		}
	}
	var best uint64
	var at []time.Time
	for comm, s := range sessions {
		var ts []time.Time
		for i := range g.events {
			e := &g.events[i]
			if tg.Involves(e) && e.Time.After(s.in) && e.Time.Before(s.out) {
				ts = append(ts, e.Time)
			}
		}
		if len(ts) > len(at) || len(ts) == len(at) && comm < best {
			best, at = comm, ts
		}
	}
	if len(at) < 20 {
		t.Fatalf("the target's busiest session has %d events", len(at))
	}
	mid := at[len(at)/2]
	for n := 1; n < len(times); n++ {
		if !times[n].Before(mid) && times[n].After(times[n-1]) {
			return n, times[n], best
		}
	}
	t.Fatal("no split point")
	return 0, time.Time{}, 0
}

// TestPOIActivationMidSession activates a task through the registry with
// the capture half processed: the target, already logged in, is
// intercepted from exactly that packet on.
func TestPOIActivationMidSession(t *testing.T) {
	for _, seed := range []int64{3, 8} {
		g, target, times := oneTarget(t, seed)
		n, boundary, session := splitPoint(t, g, target, times)
		reg := newTestRegistry(t)
		sink := &memSink{}
		poi := NewPOI(POIConfig{}, reg, sink, nil)
		task := newTask(poiXIDA, x1.X2andX3, []string{target})
		replay(t, g.pcap, poi, nil, func(k int, _ time.Time) {
			if k == n+1 { // before the engine sees packet n (0-based)
				activate(t, reg, task)
			}
		})
		if err := poi.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		poi.Close()
		x := mustXID(t, poiXIDA)
		ds, _ := decodeStream(t, sink.all())
		want := expectedFor(g.events, x, target, true, func(ts time.Time) bool { return !ts.Before(boundary) })
		got := gotSignatures(t, ds, x, target, true, true)
		diffSignatures(t, "after activation", got, want)
		if len(ds) < 10 {
			t.Fatalf("seed %d: %d PDUs after activation: too few to show anything", seed, len(ds))
		}
		caught := 0
		for _, d := range ds {
			if d.p.Attrs.Timestamp.Before(boundary) {
				t.Fatalf("PDU from %v, before the activation at %v", d.p.Attrs.Timestamp, boundary)
			}
			if d.p.CorrelationID == session {
				caught++
			}
		}
		// The login session under way at the activation is intercepted
		// from its next event on, without a login IRI of its own.
		if caught == 0 {
			t.Errorf("seed %d: nothing of the login session already under way at the activation", seed)
		}
	}
}

// TestPOIDeactivationCutOff deactivates the task with the capture half
// processed: nothing after that packet leaves the POI.
func TestPOIDeactivationCutOff(t *testing.T) {
	for _, seed := range []int64{3, 8} {
		g, target, times := oneTarget(t, seed)
		n, boundary, _ := splitPoint(t, g, target, times)
		reg := newTestRegistry(t)
		activate(t, reg, newTask(poiXIDA, x1.X2andX3, []string{target}))
		sink := &memSink{}
		poi := NewPOI(POIConfig{}, reg, sink, nil)
		var atDeactivation int
		replay(t, g.pcap, poi, nil, func(k int, _ time.Time) {
			if k == n+1 {
				deactivate(t, reg, poiXIDA)
				atDeactivation = len(sink.all())
			}
		})
		if err := poi.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		poi.Close()
		pdus := sink.all()
		if len(pdus) != atDeactivation {
			t.Fatalf("seed %d: %d PDUs when the deactivation returned, %d at the end", seed, atDeactivation, len(pdus))
		}
		x := mustXID(t, poiXIDA)
		ds, _ := decodeStream(t, pdus)
		want := expectedFor(g.events, x, target, true, func(ts time.Time) bool { return ts.Before(boundary) })
		got := gotSignatures(t, ds, x, target, true, true)
		diffSignatures(t, "before deactivation", got, want)
		if len(ds) < 10 {
			t.Fatalf("seed %d: only %d PDUs before the deactivation", seed, len(ds))
		}
		after := 0
		for i := range g.events {
			e := &g.events[i]
			if !e.Time.Before(boundary) && strings.EqualFold(e.User, target) {
				after++
			}
		}
		if after == 0 {
			t.Fatalf("seed %d: the target has no events after the deactivation: the test proves nothing", seed)
		}
	}
}

// TestPOIWarrantWindow: StartTime/EndTime of each mediationDetails,
// compared with packet time; an event passes when any LIID's window holds
// it. A second task on the same target with no window gets everything.
func TestPOIWarrantWindow(t *testing.T) {
	g, target, times := oneTarget(t, 5)
	q := len(times) / 8
	w1 := [2]time.Time{times[q], times[3*q]}
	w2 := [2]time.Time{times[5*q], times[6*q]}
	open := [2]time.Time{times[7*q], {}}
	reg := newTestRegistry(t)
	activate(t, reg, newTask(poiXIDA, x1.X2andX3, []string{target}, w1, w2, open))
	activate(t, reg, newTask(poiXIDB, x1.X2Only, []string{target}))
	sink := &memSink{}
	poi := NewPOI(POIConfig{}, reg, sink, nil)
	replay(t, g.pcap, poi, nil, nil)
	if err := poi.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	poi.Close()
	ds, _ := decodeStream(t, sink.all())
	in := func(ts time.Time) bool {
		for _, w := range [][2]time.Time{w1, w2, open} {
			if !ts.Before(w[0]) && (w[1].IsZero() || ts.Before(w[1])) {
				return true
			}
		}
		return false
	}
	xa, xb := mustXID(t, poiXIDA), mustXID(t, poiXIDB)
	wantA := expectedFor(g.events, xa, target, true, in)
	diffSignatures(t, "windowed task", gotSignatures(t, ds, xa, target, true, true), wantA)
	all := func(time.Time) bool { return true }
	wantB := expectedFor(g.events, xb, target, false, all)
	diffSignatures(t, "task without window", gotSignatures(t, ds, xb, target, true, false), wantB)
	if len(wantA) < 10 || len(wantB) <= len(wantA)+10 {
		t.Fatalf("%d records in the windows, %d in all: the windows do not cut enough to show anything", len(wantA), len(wantB))
	}
	if st := poi.Stats(); st.OutOfWindow == 0 {
		t.Errorf("stats %+v: nothing counted outside the windows", st)
	}
}
