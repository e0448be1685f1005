package hi

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rcds/hi/etsi"
)

// TestLEMFBadInput: what an MDF (or anyone) can send wrong to the LEMF is
// counted and logged, the connection it came on is dropped when the stream
// cannot be followed, and the LEMF keeps serving other connections.
func TestLEMFBadInput(t *testing.T) {
	in, err := os.ReadFile("testdata/lemf-input.ber")
	if err != nil {
		t.Fatal(err)
	}
	// The first IRI record of the pinned stream (after the two TRI PDUs).
	rr := etsi.NewRecordReader(bytes.NewReader(in), 1<<16)
	var recs [][]byte
	for {
		r, err := rr.Next()
		if err != nil {
			break
		}
		recs = append(recs, bytes.Clone(r))
	}
	iri := recs[2]
	// The same record with one content byte changed: same LIID, CIN and
	// sequence number, different bytes.
	changed := bytes.Clone(iri)
	changed[len(changed)-1] ^= 0x01
	// A well-framed element that is not a PS-PDU.
	notPDU := []byte{0x30, 0x03, 0x02, 0x01, 0x05}

	for _, tc := range []struct {
		name   string
		stream []byte
		check  func(t *testing.T, st LEMFStats, out []map[string]any)
	}{
		{"garbage", []byte{0x30, 0xff, 0x01, 0x02, 0x03}, func(t *testing.T, st LEMFStats, out []map[string]any) {
			// 0xff is a reserved length octet.
			if st.Malformed != 1 || len(out) != 1 || out[0]["kind"] != "error" {
				t.Fatalf("%+v %v", st, out)
			}
		}},
		{"text", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), func(t *testing.T, st LEMFStats, out []map[string]any) {
			// 'G' is an application-class tag and 'E' a length of 69: the
			// connection ends inside that element.
			if st.Truncated != 1 || st.Records != 0 {
				t.Fatalf("%+v %v", st, out)
			}
		}},
		{"closed mid-record", append(bytes.Clone(iri), iri[:len(iri)/2]...), func(t *testing.T, st LEMFStats, out []map[string]any) {
			if st.Truncated != 1 || st.Records != 1 || len(out) != 1 {
				t.Fatalf("%+v %v", st, out)
			}
		}},
		{"conflict", append(bytes.Clone(iri), changed...), func(t *testing.T, st LEMFStats, out []map[string]any) {
			if st.Conflicts != 1 || st.Duplicates != 0 || len(out) != 2 || out[1]["conflict"] != true {
				t.Fatalf("%+v %v", st, out)
			}
		}},
		{"duplicate", append(bytes.Clone(iri), iri...), func(t *testing.T, st LEMFStats, out []map[string]any) {
			if st.Duplicates != 1 || st.Conflicts != 0 || out[1]["duplicate"] != true || out[0]["duplicate"] != nil {
				t.Fatalf("%+v %v", st, out)
			}
		}},
		{"not a PS-PDU", append(notPDU, iri...), func(t *testing.T, st LEMFStats, out []map[string]any) {
			// The framing holds: the next record is still read.
			if st.DecodeErrors != 1 || st.Records != 1 || len(out) != 2 || out[0]["kind"] != "error" || out[1]["kind"] != "iri" {
				t.Fatalf("%+v %v", st, out)
			}
		}},
		{"huge length", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00}, func(t *testing.T, st LEMFStats, out []map[string]any) {
			if st.Malformed != 1 {
				t.Fatalf("%+v %v", st, out)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			rawDir := t.TempDir()
			lr := startLEMF(t, LEMFConfig{Out: &out, RawDir: rawDir, MaxRecord: 1 << 20})
			c, err := net.Dial("tcp", lr.l.HI2Addr())
			if err != nil {
				t.Fatal(err)
			}
			c.Write(tc.stream)
			c.Close()
			waitFor(t, "the connection to end", func() bool {
				st := lr.l.Stats()
				return st.Connections == 1 && st.Active == 0
			})
			// Still serving: a good connection afterwards is read.
			c2, err := net.Dial("tcp", lr.l.HI3Addr())
			if err != nil {
				t.Fatal(err)
			}
			c2.Write(recs[len(recs)-4]) // a CC record
			c2.Close()
			waitFor(t, "the second connection", func() bool {
				st := lr.l.Stats()
				return st.Connections == 2 && st.Active == 0
			})
			lr.stop()
			st := lr.l.Stats()
			st.Records--
			st.CC--
			var lines []map[string]any
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("bad JSON line %q: %v", l, err)
				}
				if m["hi"] == "hi2" {
					lines = append(lines, m)
				}
			}
			tc.check(t, st, lines)
			raw, err := os.ReadFile(filepath.Join(rawDir, "hi2-1.ber"))
			if err != nil {
				t.Fatal(err)
			}
			// The raw file has exactly what was received, even past the
			// point where the stream broke (up to what was read).
			if !bytes.HasPrefix(tc.stream, raw) || len(raw) == 0 {
				t.Fatalf("raw file %d bytes is not a prefix of the %d bytes sent", len(raw), len(tc.stream))
			}
		})
	}
}
