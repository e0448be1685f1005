package msngen_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rcds/capture"
	"rcds/decoder"
	"rcds/decoder/msnp"
	"rcds/internal/msngen"
)

// eventLines renders events as `rcds decode` JSON lines.
func eventLine(e *decoder.Event) string {
	return string(decoder.AppendJSON(nil, e))
}

// generate writes a capture for opt to a temporary file and returns its
// path with the expected events as JSON lines.
func generate(t *testing.T, opt msngen.Options) (string, []string, msngen.Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gen."+opt.Format)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	res, err := msngen.Generate(f, opt, func(e *decoder.Event) { want = append(want, eventLine(e)) })
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if res.Events != len(want) {
		t.Fatalf("Result.Events = %d, expect called %d times", res.Events, len(want))
	}
	return path, want, res
}

// decode runs the real pipeline (capture engine, mux, MSNP decoder) over
// the file and returns the events as JSON lines.
func decode(t *testing.T, path string) ([]string, capture.Stats) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("capture.OpenFile: %v", err)
	}
	defer src.Close()
	var got []string
	mux := decoder.NewMux(nil, decoder.EmitterFunc(func(e *decoder.Event) { got = append(got, eventLine(e)) }), msnp.New(nil, msnp.Options{}))
	eng := capture.NewEngine(capture.DefaultConfig(), mux)
	if err := eng.Run(context.Background(), src); err != nil {
		t.Fatalf("Engine.Run: %v", err)
	}
	return got, eng.Stats()
}

// compare reports the first differences between the expected and decoded
// event lists.
func compare(t *testing.T, want, got []string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("no expected events: the test would prove nothing")
	}
	n := max(len(want), len(got))
	shown := 0
	for i := 0; i < n && shown < 5; i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("event %d:\n want %s\n  got %s", i, w, g)
			shown++
		}
	}
	if len(want) != len(got) {
		t.Errorf("%d events expected, %d decoded", len(want), len(got))
	}
}

var pathologies = []struct {
	name string
	f    msngen.SegFlags
}{
	{"clean", 0},
	{"split", msngen.Split},
	{"coalesce", msngen.Coalesce},
	{"reorder", msngen.Reorder},
	{"retransmit", msngen.Retransmit},
	{"overlap", msngen.Overlap},
	{"nohandshake", msngen.NoHandshake},
	{"all", msngen.AllSeg},
}

// TestDecodeMatchesExpected is the generator's contract with the decoder:
// for every segmentation pathology and every MSNP version, the real
// pipeline reports exactly the expected events (every JSON field, in
// order).
func TestDecodeMatchesExpected(t *testing.T) {
	for _, p := range pathologies {
		for v := 2; v <= 18; v++ {
			t.Run(fmt.Sprintf("%s/MSNP%d", p.name, v), func(t *testing.T) {
				t.Parallel()
				opt := msngen.Options{
					Seed:        int64(1000*v) + int64(p.f),
					Users:       12,
					Sessions:    5,
					Concurrency: 3,
					Versions:    []int{v},
					Seg:         msngen.Segmentation{Flags: p.f, MSS: 536},
					Format:      "pcap",
				}
				path, want, _ := generate(t, opt)
				got, _ := decode(t, path)
				compare(t, want, got)
			})
		}
	}
}

// TestDecodeMixedCaptures covers what the per-version test does not: many
// interleaved sessions of mixed versions, noise, IPv6, VLAN and SLL
// framing, pcapng, tiny segments.
func TestDecodeMixedCaptures(t *testing.T) {
	cases := []struct {
		name string
		opt  msngen.Options
	}{
		{"mixed-noise", msngen.Options{Seed: 1, Sessions: 40, Concurrency: 12, Noise: 0.3}},
		{"pcapng-vlan-ipv6", msngen.Options{Seed: 2, Sessions: 20, Concurrency: 8, Format: "pcapng", Link: msngen.EthernetVLAN, IPv6: 0.5, Noise: 0.2}},
		{"sll-all-pathologies", msngen.Options{Seed: 3, Sessions: 20, Concurrency: 20, Link: msngen.SLL, Seg: msngen.Segmentation{Flags: msngen.AllSeg, Chance: 0.8}, Noise: 0.1}},
		{"tiny-segments", msngen.Options{Seed: 4, Sessions: 6, Concurrency: 3, Seg: msngen.Segmentation{Flags: msngen.AllSeg &^ msngen.NoHandshake, MSS: 16, Chance: 1}}},
		{"targets", msngen.Options{Seed: 5, Users: 20, Sessions: 10, Concurrency: 5, Targets: []string{msngen.Passport(3), msngen.Passport(11)}, Noise: 0.2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path, want, _ := generate(t, c.opt)
			got, _ := decode(t, path)
			compare(t, want, got)
		})
	}
}

// TestDecodeScript plays the demo-like script through the pipeline.
func TestDecodeScript(t *testing.T) {
	path, want, _ := generate(t, msngen.Options{Seed: 7, Script: demoScript(), Sessions: 6, Concurrency: 4, Noise: 0.3})
	got, _ := decode(t, path)
	compare(t, want, got)
	// The target's chat lines are all there, from both sides.
	var n int
	for _, l := range want {
		if strings.Contains(l, `"kind":"message"`) && strings.Contains(l, `"from":"alice@example.com"`) {
			n++
		}
	}
	if n < 4 {
		t.Errorf("the script's messages from alice: %d events, want at least 4", n)
	}
}

func demoScript() *msngen.Script {
	return &msngen.Script{
		Users: []msngen.User{
			{Passport: "alice@example.com", Nick: "Alice", Version: 15, Contacts: []string{"carol@example.org"}},
			{Passport: "bob@example.net", Nick: "Bob", Version: 8},
		},
		Actions: []msngen.Action{
			{Op: msngen.OpLogin, User: "alice@example.com"},
			{Op: msngen.OpLogin, User: "bob@example.net"},
			{Op: msngen.OpPSM, User: "alice@example.com", Text: "working <late> & tired"},
			{Op: msngen.OpOpenChat, User: "alice@example.com", Chat: 1, With: []string{"bob@example.net"}},
			{Op: msngen.OpTyping, User: "alice@example.com", Chat: 1},
			{Op: msngen.OpSay, User: "alice@example.com", Chat: 1, Text: "hi Bob, 你好!"},
			{Op: msngen.OpSay, User: "bob@example.net", Chat: 1, Text: "hey Alice"},
			{Op: msngen.OpInvite, User: "alice@example.com", Chat: 1, With: []string{"carol@example.org"}},
			{Op: msngen.OpSay, User: "carol@example.org", Chat: 1, Text: "Привет всем"},
			{Op: msngen.OpSay, User: "alice@example.com", Chat: 1, Text: "我们明天见", Charset: "gb2312"},
			{Op: msngen.OpFileInvite, User: "bob@example.net", Chat: 1},
			{Op: msngen.OpP2P, User: "alice@example.com", Chat: 1},
			{Op: msngen.OpLeave, User: "carol@example.org", Chat: 1},
			{Op: msngen.OpNick, User: "bob@example.net", Text: "Bob (away)"},
			{Op: msngen.OpStatus, User: "bob@example.net", Text: "AWY"},
			{Op: msngen.OpSay, User: "alice@example.com", Chat: 1, Text: "bye 👋"},
			{Op: msngen.OpLeave, User: "alice@example.com", Chat: 1},
			{Op: msngen.OpAddContact, User: "alice@example.com", Contact: "dave@example.com"},
			{Op: msngen.OpAddContact, User: "bob@example.net", Contact: "erin@example.com"},
			{Op: msngen.OpLogout, User: "alice@example.com"},
		},
	}
}
