package etsi

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"rcds/hi/ber"
	"rcds/internal/testtools"
)

// Other implementations' records (../shared/etsi/examples): OpenLI's HI2/HI3
// streams from the libtrace test suite and Magma's nprobe goldens. They are
// interop samples, decoded with our reader.
//
// Off-spec findings: every libtrace stream uses LI-PS-PDU version 17
// (0.4.0.2.2.5.1.17, not version33); etsi_10_pings_* encode it as
// 0.4.0.2.2.5.1.17.0 (an extra 0 arc, an old OpenLI quirk) and use
// non-minimal long-form lengths (30 82 00 9d), which BER allows and DER
// does not. Their contents (iPIRI, iPCC, iPMMIRI, iPMMCC) are alternatives
// RCDS does not model and decode as *Unknown. Magma's payload is an
// EpsHI2Operations (3GPP) IRI-Begin-record, not TS 101 671 HI2Operations:
// both our decoder and etsi-ber-decode hi2 reject it as IRIsContent.
func TestLibtraceExamples(t *testing.T) {
	tests := []struct {
		file        string
		records     int
		keepalives  int
		domainID    string
		liids       []string
		contentTags map[uint32]int // tag of the unknown IRI/CC alternative → count
	}{
		{"etsi_10_pings_HI2.raw_tcp", 10, 9, "0.4.0.2.2.5.1.17.0", []string{"XP45NN710T", "openli-1.0.10"}, map[uint32]int{2: 1}},
		{"etsi_10_pings_HI3.raw_tcp", 25, 5, "0.4.0.2.2.5.1.17.0", []string{"XP45NN710T", "openli-1.0.10"}, map[uint32]int{2: 20}},
		{"etsi_file.test", 100, 0, "0.4.0.2.2.5.1.17", []string{"anothervoip4"}, map[uint32]int{12: 100}},
		{"etsi_file_iri.test", 22, 0, "0.4.0.2.2.5.1.17", []string{"PRIMOSTATIC", "anothervoip4"}, map[uint32]int{2: 1, 11: 21}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := testtools.Path(t, "etsi/examples/libtrace/"+tc.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			pdus := readAll(t, data)
			if len(pdus) != tc.records {
				t.Fatalf("%d records, want %d", len(pdus), tc.records)
			}
			liids := map[string]bool{}
			kas := 0
			tags := map[uint32]int{}
			for i := range pdus {
				p := &pdus[i]
				if p.Header.DomainID.String() != tc.domainID {
					t.Fatalf("record %d: domain ID %s", i, p.Header.DomainID)
				}
				liids[p.Header.LIID] = true
				switch v := p.Payload.(type) {
				case *KeepAlive:
					kas++
				case IRIPayloadSequence:
					for _, x := range v {
						if u, ok := x.Contents.(*Unknown); ok {
							tags[u.Tag()]++
						}
					}
				case CCPayloadSequence:
					for _, x := range v {
						if u, ok := x.Contents.(*Unknown); ok {
							tags[u.Tag()]++
						}
					}
				}
				// what we decoded re-encodes and decodes to the same value
				b, err := Marshal(p)
				if err != nil {
					t.Fatalf("record %d: re-encode: %v", i, err)
				}
				var q PSPDU
				if err := Unmarshal(b, &q); err != nil || !reflect.DeepEqual(&q, p) {
					t.Fatalf("record %d: re-encoded record differs (%v)", i, err)
				}
			}
			if kas != tc.keepalives {
				t.Errorf("%d keep-alives, want %d", kas, tc.keepalives)
			}
			for _, l := range tc.liids {
				if !liids[l] {
					t.Errorf("LIID %q not seen (have %v)", l, liids)
				}
			}
			if len(liids) != len(tc.liids) {
				t.Errorf("LIIDs %v", liids)
			}
			if tc.contentTags != nil && !reflect.DeepEqual(tags, tc.contentTags) {
				t.Errorf("unknown content alternatives %v, want %v", tags, tc.contentTags)
			}
			crossCheckHeaders(t, path, pdus)
		})
	}
}

func readAll(t *testing.T, data []byte) []PSPDU {
	t.Helper()
	rr := NewRecordReader(bytes.NewReader(data), 1<<20)
	var out []PSPDU
	for {
		rec, err := rr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("record %d: %v", len(out)+1, err)
		}
		var p PSPDU
		if err := Unmarshal(rec, &p); err != nil {
			t.Fatalf("record %d: %v", len(out)+1, err)
		}
		out = append(out, p)
	}
}

// crossCheckHeaders compares our decoded headers with etsi-ber-decode's.
func crossCheckHeaders(t *testing.T, path string, pdus []PSPDU) {
	t.Helper()
	tool := testtools.Tool(t, "etsi-ber-decode", "erl")
	out, err := exec.Command(tool, "pspdu", path).Output()
	if err != nil {
		t.Fatalf("etsi-ber-decode: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	i := 0
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			continue
		}
		var rec struct {
			Value struct {
				PSHeader struct {
					LIID string `json:"lawfulInterceptionIdentifier"`
					Seq  uint32 `json:"sequenceNumber"`
					OID  string `json:"li-psDomainId"`
					CI   struct {
						CIN uint32 `json:"communicationIdentityNumber"`
					} `json:"communicationIdentifier"`
					Micro struct {
						Seconds uint64 `json:"seconds"`
						Micro   uint32 `json:"microSeconds"`
					} `json:"microSecondTimeStamp"`
				} `json:"pSHeader"`
			} `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if i >= len(pdus) {
			t.Fatalf("tool decoded more records than we did")
		}
		h, g := &pdus[i].Header, &rec.Value.PSHeader
		if h.LIID != g.LIID || h.SequenceNumber != g.Seq || h.DomainID.String() != g.OID || *h.CommunicationIdentifier.CIN != g.CI.CIN ||
			h.MicroSecondTimeStamp.Seconds != g.Micro.Seconds || h.MicroSecondTimeStamp.MicroSeconds != g.Micro.Micro {
			t.Fatalf("record %d: header differs from etsi-ber-decode: %+v vs %+v", i, *h, *g)
		}
		i++
	}
	if i != len(pdus) {
		t.Fatalf("tool decoded %d records, we %d", i, len(pdus))
	}
}

func TestMagmaExamples(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(testtools.Path(t, "etsi/examples/magma-nprobe/"+name))
		if err != nil {
			t.Fatal(err)
		}
		d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	payload := read("payload_asn1.golden")
	x2 := read("record_encoded.golden")
	// the X2 PDU (TS 103 221-2): header length at 4, payload length at 8
	hl, pl := binary.BigEndian.Uint32(x2[4:8]), binary.BigEndian.Uint32(x2[8:12])
	if int(hl+pl) != len(x2) {
		t.Fatalf("X2 lengths %d+%d != %d", hl, pl, len(x2))
	}
	for name, b := range map[string][]byte{"payload": payload, "x2 payload": x2[hl:]} {
		if err := ber.Validate(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n, err := ber.ParseTree(b)
		if err != nil {
			t.Fatal(err)
		}
		if n.Class != ber.ClassContext || n.Tag != 1 || !n.Constructed {
			t.Fatalf("%s: %s is not an IRI-Begin-record", name, n.String())
		}
		first := n.Children[0]
		oid, err := ber.ParseOIDContent(first.Content)
		if err != nil || first.Tag != 0 || !oid.HasPrefix(ber.OID{0, 4, 0, 2, 2, 4}) {
			t.Fatalf("%s: domain ID %v (%v): not a 3GPP lawfulIntercept OID", name, oid, err)
		}
		// not HI2Operations: rejected as TS 101 671 IRIsContent, as etsi-ber-decode hi2 does
		if _, err := UnmarshalIRIsContent(b); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: EPS record accepted as HI2Operations: %v", name, err)
		}
	}
}
