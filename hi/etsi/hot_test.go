package etsi

import (
	"bytes"
	"errors"
	"testing"

	"rcds/hi/ber"
)

// TestAppendPSPDUEqualsMarshal: splicing pre-encoded payloads gives exactly
// the bytes of a full Marshal of the same record.
func TestAppendPSPDUEqualsMarshal(t *testing.T) {
	for _, n := range corpus() {
		var kind PayloadKind
		var payloads [][]byte
		switch v := n.pdu.Payload.(type) {
		case IRIPayloadSequence:
			kind = KindIRI
			for i := range v {
				b, err := MarshalIRIPayload(&v[i])
				if err != nil {
					t.Fatal(err)
				}
				payloads = append(payloads, b)
			}
		case CCPayloadSequence:
			kind = KindCC
			for i := range v {
				b, err := MarshalCCPayload(&v[i])
				if err != nil {
					t.Fatal(err)
				}
				payloads = append(payloads, b)
			}
		default:
			continue
		}
		t.Run(n.name, func(t *testing.T) {
			want, err := Marshal(n.pdu)
			if err != nil {
				t.Fatal(err)
			}
			prefix := []byte("previous record")
			got, err := AppendPSPDU(append([]byte{}, prefix...), &n.pdu.Header, kind, payloads...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
				t.Fatalf("AppendPSPDU differs from Marshal (%d vs %d bytes)", len(got)-len(prefix), len(want))
			}
			for _, p := range payloads {
				if err := CheckPayload(kind, p); err != nil {
					t.Fatalf("CheckPayload: %v", err)
				}
			}
		})
	}
}

func TestAppendPSPDUIndefinitePayload(t *testing.T) {
	// a POI that sends an indefinite-length IRIPayload: it is spliced as is
	h := hdr("LIID-1", 1, 1, t0)
	def, err := MarshalIRIPayload(NewIRIPayload(IRIBegin, t0, NewLoginIRI(alice)))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := ber.ParseOne(def)
	indef := append([]byte{0x30, 0x80}, e.Content...)
	indef = append(indef, 0, 0)
	out, err := AppendPSPDU(nil, &h, KindIRI, indef)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, indef) {
		t.Fatal("payload not spliced verbatim")
	}
	var p PSPDU
	if err := Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	var q PSPDU
	viaDef, _ := AppendPSPDU(nil, &h, KindIRI, def)
	if err := Unmarshal(viaDef, &q); err != nil {
		t.Fatal(err)
	}
	if CategoryString(p.Payload.(IRIPayloadSequence)[0].Contents.(*MessagingIRI).Category) != "message-box:login" {
		t.Fatal("indefinite payload decoded wrongly")
	}
}

func TestAppendPSPDUErrors(t *testing.T) {
	h := hdr("LIID-1", 1, 1, t0)
	good, _ := MarshalIRIPayload(NewIRIPayload(IRIBegin, t0, NewLoginIRI(alice)))
	bad := hdr("this LIID is far too long for BER", 1, 1, t0)
	tests := []struct {
		name     string
		h        *PSHeader
		kind     PayloadKind
		payloads [][]byte
		want     error
	}{
		{"no payload", &h, KindIRI, nil, ErrInvalid},
		{"bad kind", &h, 7, [][]byte{good}, ErrInvalid},
		{"truncated payload", &h, KindIRI, [][]byte{good[:len(good)-1]}, ber.ErrTruncated},
		{"two elements", &h, KindIRI, [][]byte{append(append([]byte{}, good...), good...)}, ber.ErrMalformed},
		{"not a SEQUENCE", &h, KindIRI, [][]byte{{0x04, 0x00}}, ErrInvalid},
		{"bad header", &bad, KindIRI, [][]byte{good}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := AppendPSPDU(dst, tc.h, tc.kind, tc.payloads...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if string(out) != "keep" {
				t.Fatalf("dst changed on error: %q", out)
			}
		})
	}
	if err := CheckPayload(KindCC, good); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an IRIPayload passed as CC: %v", err)
	}
}

func TestAppendPSPDUNoAllocs(t *testing.T) {
	h := hdr("LIID-1", 7, 1, t0)
	iri, _ := MarshalIRIPayload(NewIRIPayload(IRIContinue, t0, NewMessageIRI(1, alice, []string{bob})))
	buf := make([]byte, 0, 64<<10)
	allocs := testing.AllocsPerRun(200, func() {
		h.SequenceNumber++
		var err error
		if _, err = AppendPSPDU(buf[:0], &h, KindIRI, iri); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("AppendPSPDU allocates %.1f times per record", allocs)
	}
}

func TestIntegrityCheck(t *testing.T) {
	var recs [][]byte
	var seqs []uint32
	for i, n := range corpus()[:5] {
		b, err := Marshal(n.pdu)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
		seqs = append(seqs, uint32(i+1))
	}
	ic, err := NewIntegrityCheck(DataIRI, seqs, recs)
	if err != nil {
		t.Fatal(err)
	}
	// it travels in a PS-PDU and still verifies after decoding
	b, err := Marshal(&PSPDU{Header: hdr("LIID-1", 0, 99, t0), Payload: ic})
	if err != nil {
		t.Fatal(err)
	}
	var p PSPDU
	if err := Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	got := p.Payload.(*IntegrityCheck)
	if err := got.Verify(recs); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	recs[2] = append([]byte{}, recs[2]...)
	recs[2][len(recs[2])-1] ^= 1
	if err := got.Verify(recs); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("tampered record: %v", err)
	}
	if err := got.Verify(recs[:4]); !errors.Is(err, ErrInvalid) {
		t.Fatalf("missing record: %v", err)
	}
	if _, err := NewIntegrityCheck(DataCC, []uint32{1}, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("count mismatch: %v", err)
	}
}
