package etsi

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"rcds/hi/ber"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestRoundTrip(t *testing.T) {
	for _, n := range corpus() {
		t.Run(n.name, func(t *testing.T) {
			b, err := Marshal(n.pdu)
			if err != nil {
				t.Fatal(err)
			}
			if err := ber.Validate(b); err != nil {
				t.Fatalf("not valid BER: %v", err)
			}
			var got PSPDU
			if err := Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			normalize(n.pdu)
			if !reflect.DeepEqual(&got, n.pdu) {
				t.Fatalf("decoded record differs\n got %#v\nwant %#v", got, *n.pdu)
			}
			b2, err := Marshal(&got)
			if err != nil || !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding differs (%v)", err)
			}
		})
	}
}

func TestRoundTripIRIsContent(t *testing.T) {
	for i, c := range hi2Corpus() {
		b, err := MarshalIRIsContent(c)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		got, err := UnmarshalIRIsContent(b)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		normIRIsContent(c)
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("%d: decoded differs\n got %#v\nwant %#v", i, got, c)
		}
	}
}

// TestGolden pins the exact bytes of every corpus record. Run with
// -update to rewrite testdata/*.ber after an intended change.
func TestGolden(t *testing.T) {
	for _, n := range corpus() {
		t.Run(n.name, func(t *testing.T) {
			b, err := Marshal(n.pdu)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", n.name+".ber")
			if *update {
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("encoding changed: %d bytes, golden %d bytes (first difference at %d)", len(b), len(want), firstDiff(b, want))
			}
		})
	}
	t.Run("hi2", func(t *testing.T) {
		var all []byte
		for _, c := range hi2Corpus() {
			b, err := MarshalIRIsContent(c)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		path := filepath.Join("testdata", "hi2-records.ber")
		if *update {
			if err := os.WriteFile(path, all, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(all, want) {
			t.Fatalf("encoding changed at byte %d", firstDiff(all, want))
		}
	})
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

// TestGoldenDecode decodes every golden file independently of the encoder.
func TestGoldenDecode(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.ber"))
	if err != nil || len(files) < 40 {
		t.Fatalf("golden files: %d, %v", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rr := NewRecordReader(bytes.NewReader(b), 1<<20)
		n := 0
		for {
			rec, err := rr.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("%s: %v", f, err)
				}
				break
			}
			n++
			if filepath.Base(f) == "hi2-records.ber" {
				if _, err := UnmarshalIRIsContent(rec); err != nil {
					t.Fatalf("%s record %d: %v", f, n, err)
				}
				continue
			}
			var p PSPDU
			if err := Unmarshal(rec, &p); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		if n == 0 {
			t.Fatalf("%s: no record", f)
		}
	}
}

// offSpec builds a PS-PDU by hand so that records breaking the module can
// be produced; hdr and pay write the header components and the payload
// alternative.
func offSpec(hdr func(b *ber.Builder), pay func(b *ber.Builder)) []byte {
	var b ber.Builder
	b.BeginSequence()
	b.Begin(ctx, 1)
	hdr(&b)
	b.End()
	b.Begin(ctx, 2)
	pay(&b)
	b.End()
	b.End()
	out, err := b.Bytes()
	if err != nil {
		panic(err)
	}
	return out
}

// stdHdr writes a valid header, with the component numbered skip replaced by
// repl (nil: left out).
func stdHdr(skip int, repl func(b *ber.Builder)) func(b *ber.Builder) {
	return func(b *ber.Builder) {
		parts := []func(){
			func() { b.OID(ctx, 0, PSDomainID()) },
			func() { b.String(ctx, 1, "LIID-1") },
			func() { b.String(ctx, 2, "DE") },
			func() {
				b.Begin(ctx, 3)
				b.Begin(ctx, 0)
				b.String(ctx, 0, "OP")
				b.End()
				b.Uint(ctx, 1, 7)
				b.End()
			},
			func() { b.Uint(ctx, 4, 1) },
		}
		for i, p := range parts {
			if i == skip {
				if repl != nil {
					repl(b)
				}
				continue
			}
			p()
		}
	}
}

func keepAlive(b *ber.Builder) { b.Begin(ctx, 2); b.Null(ctx, 3); b.End() }

func TestDecodeRejects(t *testing.T) {
	good, err := Marshal(corpus()[0].pdu)
	if err != nil {
		t.Fatal(err)
	}
	if err := Unmarshal(offSpec(stdHdr(-1, nil), keepAlive), &PSPDU{}); err != nil {
		t.Fatalf("the hand-built base record must decode: %v", err)
	}
	iri := func(inner func(b *ber.Builder)) func(b *ber.Builder) {
		return func(b *ber.Builder) {
			b.Begin(ctx, 0)
			b.BeginSequence()
			inner(b)
			b.End()
			b.End()
		}
	}
	msgIRI := func(extra func(b *ber.Builder)) func(b *ber.Builder) {
		return iri(func(b *ber.Builder) {
			b.Begin(ctx, 2)
			b.Begin(ctx, 14)
			b.RelativeOID(ctx, 0, MessagingIRIObjID())
			b.Int(ctx, 1, 1)
			b.Int(ctx, 4, 3)
			extra(b)
			b.Int(ctx, 6, 1)
			b.End()
			b.End()
		})
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"truncated", good[:len(good)-1], ber.ErrTruncated},
		{"trailing byte", append(append([]byte{}, good...), 0), ber.ErrMalformed},
		{"not a sequence", []byte{0x04, 0x00}, ErrInvalid},
		{"LIID 26 octets", offSpec(stdHdr(1, func(b *ber.Builder) { b.String(ctx, 1, "abcdefghijklmnopqrstuvwxyz") }), keepAlive), ErrInvalid},
		{"LIID empty", offSpec(stdHdr(1, func(b *ber.Builder) { b.String(ctx, 1, "") }), keepAlive), ErrInvalid},
		{"LIID not UTF-8", offSpec(stdHdr(1, func(b *ber.Builder) { b.String(ctx, 1, "\xff\xfe") }), keepAlive), ErrInvalid},
		{"country code 3", offSpec(stdHdr(2, func(b *ber.Builder) { b.String(ctx, 2, "DEU") }), keepAlive), ErrInvalid},
		{"country code charset", offSpec(stdHdr(2, func(b *ber.Builder) { b.String(ctx, 2, "D@") }), keepAlive), ErrInvalid},
		{"operator 17 octets", offSpec(stdHdr(3, func(b *ber.Builder) {
			b.Begin(ctx, 3)
			b.Begin(ctx, 0)
			b.String(ctx, 0, "12345678901234567")
			b.End()
			b.End()
		}), keepAlive), ErrInvalid},
		{"no network identifier", offSpec(stdHdr(3, func(b *ber.Builder) { b.Begin(ctx, 3); b.Uint(ctx, 1, 7); b.End() }), keepAlive), ErrInvalid},
		{"sequence number 2^32", offSpec(stdHdr(4, func(b *ber.Builder) { b.Uint(ctx, 4, 1<<32) }), keepAlive), ErrInvalid},
		{"negative sequence number", offSpec(stdHdr(4, func(b *ber.Builder) { b.Int(ctx, 4, -1) }), keepAlive), ber.ErrMalformed},
		{"no sequence number", offSpec(stdHdr(4, nil), keepAlive), ErrInvalid},
		{"no domain id", offSpec(stdHdr(0, nil), keepAlive), ErrInvalid},
		{"out of order", offSpec(func(b *ber.Builder) {
			b.OID(ctx, 0, PSDomainID())
			b.String(ctx, 1, "LIID-1")
			b.Uint(ctx, 4, 1)
			b.Begin(ctx, 3)
			b.Begin(ctx, 0)
			b.String(ctx, 0, "OP")
			b.End()
			b.End()
		}, keepAlive), ErrInvalid},
		{"duplicate LIID", offSpec(stdHdr(2, func(b *ber.Builder) { b.String(ctx, 1, "x") }), keepAlive), ErrInvalid},
		{"microSeconds 10^6", offSpec(func(b *ber.Builder) {
			stdHdr(-1, nil)(b)
			b.Begin(ctx, 7)
			b.Uint(ctx, 0, 1)
			b.Uint(ctx, 1, 1000000)
			b.End()
		}, keepAlive), ErrInvalid},
		{"timeStampQualifier 9", offSpec(func(b *ber.Builder) { stdHdr(-1, nil)(b); b.Int(ctx, 8, 9) }, keepAlive), ErrInvalid},
		{"bad GeneralizedTime", offSpec(func(b *ber.Builder) { stdHdr(-1, nil)(b); b.String(ctx, 5, "2024-03-01") }, keepAlive), ber.ErrMalformed},
		{"keep-alive with content", offSpec(stdHdr(-1, nil), func(b *ber.Builder) { b.Begin(ctx, 2); b.Primitive(ctx, 3, []byte{0}); b.End() }), ber.ErrMalformed},
		{"two TRI alternatives", offSpec(stdHdr(-1, nil), func(b *ber.Builder) { b.Begin(ctx, 2); b.Null(ctx, 3); b.Null(ctx, 4); b.End() }), ErrInvalid},
		{"empty payload", offSpec(stdHdr(-1, nil), func(b *ber.Builder) {}), ErrInvalid},
		{"IRIPayload not a SEQUENCE", offSpec(stdHdr(-1, nil), func(b *ber.Builder) { b.Begin(ctx, 0); b.Begin(ctx, 16); b.End(); b.End() }), ErrInvalid},
		{"IRIPayload without contents", offSpec(stdHdr(-1, nil), iri(func(b *ber.Builder) { b.Int(ctx, 0, 1) })), ErrInvalid},
		{"iRIType 5", offSpec(stdHdr(-1, nil), iri(func(b *ber.Builder) { b.Int(ctx, 0, 5) })), ErrInvalid},
		{"status 7", offSpec(stdHdr(-1, nil), iri(func(b *ber.Builder) {
			b.Begin(ctx, 2)
			b.Begin(ctx, 14)
			b.RelativeOID(ctx, 0, MessagingIRIObjID())
			b.Int(ctx, 1, 1)
			b.Int(ctx, 4, 7)
			b.Int(ctx, 6, 1)
			b.End()
			b.End()
		})), ErrInvalid},
		{"MessagingIRI without trigger", offSpec(stdHdr(-1, nil), iri(func(b *ber.Builder) {
			b.Begin(ctx, 2)
			b.Begin(ctx, 14)
			b.RelativeOID(ctx, 0, MessagingIRIObjID())
			b.Int(ctx, 1, 1)
			b.Int(ctx, 4, 3)
			b.End()
			b.End()
		})), ErrInvalid},
		{"party identity empty", offSpec(stdHdr(-1, nil), msgIRI(func(b *ber.Builder) {
			b.Begin(ctx, 5)
			b.BeginSequence()
			b.Int(ctx, 0, 1)
			b.Begin(ctx, 1)
			b.End()
			b.End()
			b.End()
		})), ErrInvalid},
		{"email address 256 octets", offSpec(stdHdr(-1, nil), msgIRI(func(b *ber.Builder) {
			b.Begin(ctx, 5)
			b.BeginSequence()
			b.Int(ctx, 0, 1)
			b.Begin(ctx, 1)
			b.Begin(ctx, 2)
			b.String(uni, ber.TagUTF8String, string(bytes.Repeat([]byte("a"), 256)))
			b.End()
			b.End()
			b.End()
			b.End()
		})), ErrInvalid},
		{"category wrapper primitive", offSpec(stdHdr(-1, nil), iri(func(b *ber.Builder) {
			b.Begin(ctx, 2)
			b.Begin(ctx, 14)
			b.RelativeOID(ctx, 0, MessagingIRIObjID())
			b.Int(ctx, 1, 1)
			b.Int(ctx, 3, 1)
			b.Int(ctx, 4, 3)
			b.Int(ctx, 6, 1)
			b.End()
			b.End()
		})), ErrInvalid},
		{"pincode 33 octets", offSpec(stdHdr(-1, nil), iri(func(b *ber.Builder) {
			b.Begin(ctx, 2)
			b.Begin(ctx, 14)
			b.RelativeOID(ctx, 0, MessagingIRIObjID())
			b.Int(ctx, 1, 1)
			b.Int(ctx, 4, 3)
			b.Int(ctx, 6, 1)
			b.Begin(ctx, 7)
			b.Primitive(ctx, 0, bytes.Repeat([]byte{1}, 33))
			b.End()
			b.End()
			b.End()
		})), ErrInvalid},
		{"event-identifier 2^32", offSpec(stdHdr(-1, nil), iri(func(b *ber.Builder) {
			b.Begin(ctx, 2)
			b.Begin(ctx, 14)
			b.RelativeOID(ctx, 0, MessagingIRIObjID())
			b.Int(ctx, 1, 1)
			b.Int(ctx, 4, 3)
			b.Int(ctx, 6, 1)
			b.Uint(ctx, 8, 1<<32)
			b.End()
			b.End()
		})), ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p PSPDU
			err := Unmarshal(tc.in, &p)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestUnknownAlternatives: alternatives RCDS does not model are kept and
// re-sent byte for byte.
func TestUnknownAlternatives(t *testing.T) {
	in := offSpec(stdHdr(-1, nil), func(b *ber.Builder) {
		b.Begin(ctx, 0)
		b.BeginSequence()
		b.Int(ctx, 0, 1)
		b.Begin(ctx, 2)
		b.Begin(ctx, 2) // iPIRI
		b.RelativeOID(ctx, 0, ber.OID{5, 3, 14, 1})
		b.End()
		b.End()
		b.End()
		b.End()
	})
	var p PSPDU
	if err := Unmarshal(in, &p); err != nil {
		t.Fatal(err)
	}
	u, ok := p.Payload.(IRIPayloadSequence)[0].Contents.(*Unknown)
	if !ok || u.Tag() != 2 {
		t.Fatalf("contents = %#v", p.Payload.(IRIPayloadSequence)[0].Contents)
	}
	out, err := Marshal(&p)
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("re-encoding differs: %v", err)
	}
	// an Unknown may not impersonate a modelled alternative
	p.Payload.(IRIPayloadSequence)[0].Contents = &Unknown{Raw: []byte{0xae, 0x00}}
	if _, err := Marshal(&p); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Unknown with a modelled tag: %v", err)
	}
}
