package msnp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rcds/capture"
	"rcds/decoder"
	"rcds/decoder/msnp"
	"rcds/internal/testtools"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden is what a real capture decodes to, pinned without its content:
// event counts per kind and, for every message and typing event in order,
// the SHA-256 of kind, from, to and body.
type golden struct {
	File         string                  `json:"file"`
	Events       map[decoder.Kind]uint64 `json:"events"`
	Conns        uint64                  `json:"conns_msnp"`
	Undetected   uint64                  `json:"conns_undetected"`
	NoRecipients int                     `json:"messages_without_recipients"`
	Digests      []string                `json:"digests"`
}

// decodeFile runs a capture through the real pipeline.
func decodeFile(t *testing.T, path string) ([]decoder.Event, decoder.MuxStats) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var events []decoder.Event
	mux := decoder.NewMux(nil, decoder.EmitterFunc(func(e *decoder.Event) {
		c := *e
		c.To = append([]string(nil), e.To...)
		c.Raw = nil
		c.Format = nil
		events = append(events, c)
	}), msnp.New(nil, msnp.Options{}))
	eng := capture.NewEngine(capture.DefaultConfig(), mux)
	if err := eng.Run(context.Background(), src); err != nil {
		t.Fatalf("run: %v", err)
	}
	return events, mux.Stats()
}

func digest(e *decoder.Event) string {
	h := sha256.New()
	h.Write([]byte(e.Kind))
	h.Write([]byte{0})
	h.Write([]byte(e.From))
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(e.To, ",")))
	h.Write([]byte{0})
	h.Write([]byte(e.Body))
	return hex.EncodeToString(h.Sum(nil))
}

func TestRealCaptures(t *testing.T) {
	tests := []struct {
		file             string
		messages, typing int
		// recipients: every message and typing event has a sender, and a
		// recipient wherever the capture shows another party.
	}{
		{"testdata/pcaps/real/msnms_ppa_2006.pcap", 7, 13},
		{"testdata/pcaps/real/msnms_ndpi_2005.pcap", 34, 210},
		{"testdata/pcaps/real/mixed_lan_2003_zeek_mapi.pcap", 0, 1},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			events, st := decodeFile(t, testtools.Path(t, tt.file))
			g := golden{File: filepath.Base(tt.file), Events: st.Events, Conns: st.Detected["msnp"], Undetected: st.Undetected}
			var msgs, typing int
			// Flows where the capture shows the server side (another party).
			twoSided := map[string]bool{}
			for _, e := range events {
				if !e.FromClient {
					twoSided[e.Flow] = true
				}
			}
			for i := range events {
				e := &events[i]
				if e.Kind == decoder.KindError {
					t.Errorf("error event: %s", e.Detail)
				}
				if e.Kind != decoder.KindMessage && e.Kind != decoder.KindTyping {
					continue
				}
				if e.Kind == decoder.KindMessage {
					msgs++
				} else {
					typing++
				}
				if e.From == "" {
					t.Errorf("%s without sender", e.Kind)
				}
				if len(e.To) == 0 {
					g.NoRecipients++
					if twoSided[e.Flow] {
						t.Errorf("%s without recipients on a flow that shows the other party", e.Kind)
					}
				}
				g.Digests = append(g.Digests, digest(e))
			}
			if msgs != tt.messages || typing != tt.typing {
				t.Errorf("%d messages and %d typing notifications, want %d and %d", msgs, typing, tt.messages, tt.typing)
			}
			if uint64(len(events)) != st.TotalEvents() {
				t.Errorf("stats count %d events, emitted %d", st.TotalEvents(), len(events))
			}
			compareGolden(t, g)
		})
	}
}

func TestNoiseCapturesGiveNoEvents(t *testing.T) {
	dir := testtools.Path(t, "testdata/pcaps/noise")
	files, err := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no noise captures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			events, st := decodeFile(t, f)
			if len(events) != 0 {
				t.Fatalf("%d events, want none (first: %s)", len(events), decoder.AppendText(nil, &events[0]))
			}
			if st.Detected["msnp"] != 0 {
				t.Fatalf("%d connections taken for MSNP", st.Detected["msnp"])
			}
		})
	}
}

func compareGolden(t *testing.T, g golden) {
	t.Helper()
	path := filepath.Join("testdata", "golden", strings.TrimSuffix(g.File, filepath.Ext(g.File))+".json")
	got, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("golden %s differs:\n got %s\nwant %s", path, got, want)
	}
}
