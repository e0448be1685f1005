package hi

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"rcds/x1"
	"rcds/x2x3"
)

// FuzzLEMFStream feeds arbitrary bytes to the LEMF's connection handler:
// it must never panic, and whatever it emits must be consistent with its
// counters.
func FuzzLEMFStream(f *testing.F) {
	in, err := os.ReadFile("testdata/lemf-input.ber") // pinned by TestGoldenLEMFOutput
	if err != nil {
		f.Fatal(err)
	}
	f.Add(in)
	f.Add(in[:len(in)/2])
	f.Add(in[100:])
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte{0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Add(bytes.Repeat([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		n := 0
		l, err := NewLEMF(LEMFConfig{HI2Listen: "x", Out: &out, View: io.Discard, MaxRecord: 1 << 16,
			DedupEntries: 64, IntegrityWindow: 64, OnRecord: func(r *LEMFRecord) { n++ }}, nil)
		if err != nil {
			t.Fatal(err)
		}
		lc := l.newConn(io.Discard, nil, 1, 1)
		lc.consume(bytes.NewReader(data))
		l.flushOut()
		st := l.Stats()
		if st.Bytes != uint64(len(data)) {
			t.Fatalf("read %d of %d bytes", st.Bytes, len(data))
		}
		if lines := bytes.Count(out.Bytes(), []byte("\n")); lines != n {
			t.Fatalf("%d JSON lines for %d records", lines, n)
		}
		if st.Duplicates+st.Conflicts > st.Records {
			t.Fatalf("stats %+v", st)
		}
	})
}

// FuzzMDFSend hands the MDF X2/X3 PDUs with arbitrary type, format,
// direction and payload (what a hostile or broken POI can send once the
// X2/X3 framing is valid): the MDF must not panic, must not return an
// error for bad input, and every PDU must be accounted for exactly once.
func FuzzMDFSend(f *testing.F) {
	e := newEnv(f, baseConfig())
	e.createDest(didHI2, x1.X2andX3, "127.0.0.1:9")
	e.activate(xidA, x1.MediationDetails{LIID: "FUZZ", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2}})
	g := &pduGen{t: f, xid: mustXID(f, xidA)}
	x2, x3 := g.message(0, 1)
	f.Add(byte(1), byte(1), byte(3), false, x2.Payload)
	f.Add(byte(2), byte(1), byte(2), false, x3.Payload)
	f.Add(byte(2), byte(15), byte(2), false, []byte("MIME-Version: 1.0\r\n\r\nhello"))
	f.Add(byte(1), byte(1), byte(3), true, x2.Payload)
	f.Add(byte(1), byte(1), byte(1), false, []byte{0x30, 0x80, 0x00, 0x00})
	f.Add(byte(3), byte(0), byte(0), false, []byte{})
	f.Add(byte(2), byte(1), byte(9), false, x2.Payload)
	ctx := context.Background()
	var seq uint32
	f.Fuzz(func(t *testing.T, typ, format, dir byte, unknown bool, payload []byte) {
		seq++
		s := seq
		p := &x2x3.PDU{Type: x2x3.PDUType(typ), Format: x2x3.PayloadFormat(format), Direction: x2x3.Direction(dir),
			XID: g.xid, CorrelationID: uint64(len(payload) % 3), Payload: payload}
		if unknown {
			p.XID = mustXID(t, xidB)
		}
		p.Attrs.SeqNo = &s
		p.Attrs.Timestamp = baseTime
		before := e.mdf.Stats()
		if err := e.mdf.Send(ctx, p); err != nil {
			t.Fatalf("Send: %v", err)
		}
		after := e.mdf.Stats()
		handled := (after.Records - before.Records) + (after.BadPDU - before.BadPDU) +
			(after.UnknownXID - before.UnknownXID) + (after.Duplicates - before.Duplicates) +
			(after.NoRoute - before.NoRoute)
		if after.PDUs-before.PDUs != 1 || handled != 1 {
			t.Fatalf("PDU counted %d times (stats before %+v after %+v)", handled, before, after)
		}
	})
}
