package demo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rcds/decoder"
)

// TestRun plays the demo and checks its summary against the generator's
// expectation.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	sum, err := Run(context.Background(), Options{Dir: t.TempDir()}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	x := sum.Expect
	if sum.Messages != len(x.Messages) || len(x.Messages) != 5 || len(sum.Missing) != 0 {
		t.Errorf("messages %d of %d, missing %q", sum.Messages, len(x.Messages), sum.Missing)
	}
	if sum.CC == 0 || sum.IRI <= sum.CC || sum.Categories["message:deposit"] != sum.CC {
		t.Errorf("IRI %d, CC %d, categories %v", sum.IRI, sum.CC, sum.Categories)
	}
	if len(sum.Leaks) != 0 || sum.Duplicates != 0 || sum.Errors != 0 {
		t.Errorf("leaks %q, duplicates %d, errors %d", sum.Leaks, sum.Duplicates, sum.Errors)
	}
	if len(x.Outsiders) < 10 || !slices.Contains(x.Private, PrivateText) {
		t.Errorf("the check is too weak: %d outsiders, private texts %q", len(x.Outsiders), x.Private)
	}
	if sum.Bytes == 0 {
		t.Error("no bytes scanned")
	}
}

// TestExpect: who is an outsider, which texts are private.
func TestExpect(t *testing.T) {
	evs := []decoder.Event{
		{Kind: decoder.KindLogin, User: Target},
		{Kind: decoder.KindMessage, User: Target, From: Target, To: []string{Bob}, Body: "hello bob, long enough"},
		{Kind: decoder.KindMessage, User: Bob, From: Target, To: []string{Bob}, Body: "hello bob, long enough"},
		{Kind: decoder.KindMessage, User: Bob, From: Bob, To: []string{"Eve@Example.com"}, Body: "a secret between us"},
		{Kind: decoder.KindLogin, User: "mallory@example.org"},
	}
	x := Expect(evs, Target)
	if x.TargetEvents != 3 || x.Kinds[decoder.KindMessage] != 2 {
		t.Errorf("target events %d, kinds %v", x.TargetEvents, x.Kinds)
	}
	if !slices.Equal(x.Messages, []string{"hello bob, long enough"}) {
		t.Errorf("messages %q", x.Messages)
	}
	if !slices.Equal(x.Outsiders, []string{"eve@example.com", "mallory@example.org"}) {
		t.Errorf("outsiders %q", x.Outsiders)
	}
	if !slices.Equal(x.Private, []string{"a secret between us"}) {
		t.Errorf("private %q", x.Private)
	}
}

// TestLeakCheckFails: the byte scan finds a planted passport (in any case)
// and a planted private text, and the summary then fails.
func TestLeakCheckFails(t *testing.T) {
	x := Expectation{
		Messages:  []string{"hello bob, long enough"},
		Outsiders: []string{"eve@example.com"},
		Private:   []string{"a secret between us", "short", "hello bob"},
	}
	for _, c := range []struct {
		name  string
		bytes string
		leaks int
	}{
		{"clean", "\x30\x10alice@example.com hello bob, long enough", 0},
		{"passport", "\x30\x10EVE@example.com", 1},
		{"text", "\x04\x13a secret between us", 1},
		{"both", "eve@example.com a secret between us", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "hi3-1.ber"), []byte(c.bytes), 0o600); err != nil {
				t.Fatal(err)
			}
			sum := &Summary{Expect: x, Records: 1}
			if err := scanRaw(sum, dir); err != nil {
				t.Fatal(err)
			}
			if len(sum.Leaks) != c.leaks {
				t.Errorf("leaks %q, want %d", sum.Leaks, c.leaks)
			}
			err := sum.OK()
			if (c.leaks > 0) != errors.Is(err, ErrLeak) {
				t.Errorf("OK() = %v", err)
			}
			var out bytes.Buffer
			printSummary(&out, sum, 0, false)
			if c.leaks == 0 != strings.Contains(out.String(), "leaked: none") {
				t.Errorf("summary:\n%s", out.String())
			}
		})
	}
}

// TestCheckedPrivate: short texts and texts inside the target's own
// messages are not searched for (they would match innocently).
func TestCheckedPrivate(t *testing.T) {
	got := checkedPrivate(Expectation{
		Messages: []string{"hello bob, long enough"},
		Private:  []string{"a secret between us", "short", "hello bob, long"},
	})
	if !slices.Equal(got, []string{"a secret between us"}) {
		t.Errorf("%q", got)
	}
}

// TestSummaryIncomplete: nothing received, or a message missing, fails.
func TestSummaryIncomplete(t *testing.T) {
	if err := (&Summary{}).OK(); !errors.Is(err, ErrIncomplete) {
		t.Errorf("empty: %v", err)
	}
	s := &Summary{Records: 3, Missing: []string{"x"}, Expect: Expectation{Messages: []string{"x"}}}
	if err := s.OK(); !errors.Is(err, ErrIncomplete) {
		t.Errorf("missing: %v", err)
	}
}
