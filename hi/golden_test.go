package hi

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rcds/hi/etsi"
	"rcds/x1"
	"rcds/x2x3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name (or rewrites it with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

// goldenRecords builds, through the MDF, one record of each kind: IRI in
// both profiles, CC from a format-1 X3 and from a format-15 (MIME) X3.
func goldenRecords(t testing.TB) map[string][]byte {
	cfg := baseConfig()
	cfg.Destinations = map[string]DestinationConfig{did671: {Profile: Profile101671}}
	e := newEnv(t, cfg)
	e.createDest(didHI2, x1.X2Only, "127.0.0.1:9")
	e.createDest(didHI3, x1.X3Only, "127.0.0.1:9")
	e.createDest(did671, x1.X2Only, "127.0.0.1:9")
	e.activate(xidA, x1.MediationDetails{LIID: "GOLDEN-1", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2, didHI3, did671}})
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	ctx := context.Background()
	x2, x3 := g.message(0, 42)
	mime := g.stamp(&x2x3.PDU{Type: x2x3.TypeX3, Format: x2x3.FormatMIME, Direction: x2x3.DirToTarget,
		CorrelationID: 42, Payload: []byte("MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhi")}, 1)
	mime.Attrs.MIMEType = "text/plain"
	for _, p := range []*x2x3.PDU{g.login(0, 42), x2, x3, mime} {
		if err := e.mdf.Send(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.mdf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	read := func(did string, names ...string) {
		e.mdf.rmu.RLock()
		q := e.mdf.dests[did].q
		e.mdf.rmu.RUnlock()
		recs, err := q.Read(0, 100, 0)
		if err != nil || len(recs) != len(names) {
			t.Fatalf("%s: %d records, %v", did, len(recs), err)
		}
		for i, r := range recs {
			_, pdu, err := parseRecord(r.Data)
			if err != nil {
				t.Fatal(err)
			}
			out[names[i]] = pdu
		}
	}
	read(didHI2, "iri-login-102232", "iri-message-102232")
	read(did671, "iri-login-101671", "iri-message-101671")
	read(didHI3, "cc-message", "cc-mime")
	return out
}

// TestGoldenRecords pins the exact bytes of representative records.
func TestGoldenRecords(t *testing.T) {
	recs := goldenRecords(t)
	dir := t.TempDir()
	for name, pdu := range recs {
		t.Run(name, func(t *testing.T) {
			golden(t, "record-"+name+".golden", []byte(hex.Dump(pdu)))
		})
		if err := os.WriteFile(filepath.Join(dir, "hi-"+name+".ber"), pdu, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n := decodeRaw(t, dir); n != len(recs) {
		t.Fatalf("etsi-ber-decode decoded %d records, want %d", n, len(recs))
	}
}

// lemfInput is a record stream as an MDF sends it: option negotiation, the
// golden records, an integrity check, a re-sent record, a keep-alive and an
// acknowledgement request, with fixed time stamps.
func lemfInput(t testing.TB) []byte {
	recs := goldenRecords(t)
	ts := time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC)
	micro := etsi.MicroTime(ts)
	cin := uint32(1)
	tri := func(seq uint32, p etsi.TRIPayload, withCIN bool) []byte {
		h := etsi.PSHeader{LIID: "GOLDEN-1", AuthorizationCountryCode: "DE", SequenceNumber: seq,
			CommunicationIdentifier: etsi.CommunicationIdentifier{
				NetworkIdentifier:   etsi.NetworkIdentifier{OperatorIdentifier: "RCDS", NetworkElementIdentifier: "mdf-1"},
				DeliveryCountryCode: "DE"},
			TimeStamp: ts, MicroSecondTimeStamp: &micro}
		if withCIN {
			h.CommunicationIdentifier.CIN = &cin
		}
		b, err := etsi.Marshal(&etsi.PSPDU{Header: h, Payload: p})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ic, err := etsi.NewIntegrityCheck(etsi.DataIRI, []uint32{0, 1},
		[][]byte{recs["iri-login-102232"], recs["iri-message-102232"]})
	if err != nil {
		t.Fatal(err)
	}
	var in []byte
	for _, b := range [][]byte{
		tri(0, &etsi.OptionRequest{RequestedOptions: []etsi.Option{&etsi.PDUAcknowledgement{}}}, false),
		tri(1, &etsi.OptionComplete{}, false),
		recs["iri-login-102232"], recs["iri-message-102232"],
		tri(2, ic, true),
		recs["iri-login-101671"], recs["iri-message-101671"],
		recs["cc-message"], recs["cc-mime"],
		recs["iri-message-102232"], // re-sent
		tri(3, &etsi.KeepAlive{}, false),
		tri(4, &etsi.PDUAcknowledgementRequest{}, false),
	} {
		in = append(in, b...)
	}
	return in
}

// TestGoldenLEMFOutput pins the LEMF's JSONL and live view for a stream,
// and checks its answers to the MDF.
func TestGoldenLEMFOutput(t *testing.T) {
	in := lemfInput(t)
	// The input itself is pinned too: FuzzLEMFStream seeds from it.
	golden(t, "lemf-input.ber", in)
	var out, view, answers bytes.Buffer
	l, err := NewLEMF(LEMFConfig{HI2Listen: "127.0.0.1:0", Out: &out, View: &view}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lc := l.newConn(&answers, nil, 0, 1)
	lc.consume(bytes.NewReader(in))
	l.flushOut()
	golden(t, "lemf-out.jsonl.golden", out.Bytes())
	golden(t, "lemf-view.txt.golden", view.Bytes())

	// Answers: optionResponse (accepting), keep-aliveResponse seq 3,
	// pDUAcknowledgementResponse seq 4.
	rr := etsi.NewRecordReader(bytes.NewReader(answers.Bytes()), 1<<16)
	var kinds []string
	for {
		rec, err := rr.Next()
		if err != nil {
			break
		}
		var p etsi.PSPDU
		if err := etsi.Unmarshal(rec, &p); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, strings.TrimPrefix(fmt.Sprintf("%T/%d", p.Payload, p.Header.SequenceNumber), "*etsi."))
		if o, ok := p.Payload.(*etsi.OptionResponse); ok && (len(o.AcceptedOptions) != 1 || len(o.DeclinedOptions) != 0) {
			t.Fatalf("option response %+v", o)
		}
	}
	if got := strings.Join(kinds, " "); got != "OptionResponse/0 KeepAliveResponse/3 PDUAcknowledgementResponse/4" {
		t.Fatalf("answers: %s", got)
	}
	st := l.Stats()
	if st.Records != 7 || st.Duplicates != 1 || st.IntegrityOK != 1 || st.Keepalives != 1 || st.AckRequests != 1 {
		t.Fatalf("stats %+v", st)
	}
}
