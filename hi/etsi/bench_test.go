package etsi

import (
	"bytes"
	"testing"
)

// BenchmarkAppendPSPDU is the MDF hot path: one pre-encoded IRIPayload (a
// message deposit IRI, as a POI sends it) wrapped in a PS-PDU with a full
// header. Report: ns/op = ns per record; allocs must be 0.
func BenchmarkAppendPSPDU(b *testing.B) {
	h := hdr("LIID-1", 7, 1, t0)
	iri, err := MarshalIRIPayload(NewIRIPayload(IRIContinue, t0, NewMessageIRI(1, alice, []string{bob})))
	if err != nil {
		b.Fatal(err)
	}
	cc, err := MarshalCCPayload(NewCCPayload(FromTarget, t0, NewMessagingCC(1, "text/plain; charset=UTF-8", bytes.Repeat([]byte("x"), 200))))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		kind    PayloadKind
		payload []byte
	}{{"iri", KindIRI, iri}, {"cc-200B", KindCC, cc}} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.payload)))
			for i := 0; i < b.N; i++ {
				h.SequenceNumber = uint32(i)
				out, err := AppendPSPDU(buf[:0], &h, bc.kind, bc.payload)
				if err != nil {
					b.Fatal(err)
				}
				buf = out
			}
		})
	}
}

// BenchmarkMarshalIRIPayload is the POI side: building and encoding one
// message IRI and its CC.
func BenchmarkMarshalIRIPayload(b *testing.B) {
	body := []byte("Hello, how are you?\r\n")
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		id := uint32(i)
		out, err := AppendIRIPayload(buf[:0], NewIRIPayload(IRIContinue, t0, NewMessageIRI(id, alice, []string{bob})))
		if err != nil {
			b.Fatal(err)
		}
		out, err = AppendCCPayload(out, NewCCPayload(FromTarget, t0, NewMessagingCC(id, "text/plain; charset=UTF-8", body)))
		if err != nil {
			b.Fatal(err)
		}
		buf = out
	}
}

// BenchmarkUnmarshal is the LEMF side: a full decode of one IRI record.
func BenchmarkUnmarshal(b *testing.B) {
	rec, err := Marshal(iriPDU(1, NewIRIPayload(IRIContinue, t0, NewMessageIRI(1, alice, []string{bob}))))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for i := 0; i < b.N; i++ {
		var p PSPDU
		if err := Unmarshal(rec, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordReader splits a stream of corpus records.
func BenchmarkRecordReader(b *testing.B) {
	var stream []byte
	n := 0
	for _, c := range corpus() {
		if c.name == "cc-large" {
			continue
		}
		r, err := Marshal(c.pdu)
		if err != nil {
			b.Fatal(err)
		}
		stream = append(stream, r...)
		n++
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for i := 0; i < b.N; i++ {
		rr := NewRecordReader(bytes.NewReader(stream), 1<<20)
		for k := 0; k < n; k++ {
			if _, err := rr.Next(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAppendIRIPayload671 is the MDF's TS 101 671 conversion of one
// POI IRIPayload.
func BenchmarkAppendIRIPayload671(b *testing.B) {
	iri, err := MarshalIRIPayload(NewIRIPayload(IRIContinue, t0, NewMessageIRI(1, alice, []string{bob})))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out, err := AppendIRIPayload671(buf[:0], iri, &prm671)
		if err != nil {
			b.Fatal(err)
		}
		buf = out
	}
}
