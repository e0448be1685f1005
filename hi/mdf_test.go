package hi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"rcds/hi/etsi"
	"rcds/x1"
	"rcds/x2x3"
)

type streamKey struct {
	hi   string
	conn int
	liid string
	cin  uint32
	kind string
}

// checkStreams asserts that every (connection, LIID, CIN, kind) stream
// carries sequence numbers 0, 1, 2, ... in order, each once (duplicates
// must be flagged and identical), and returns the records per stream.
func checkStreams(t *testing.T, recs []LEMFRecord, allowDup bool) map[streamKey][]LEMFRecord {
	t.Helper()
	out := map[streamKey][]LEMFRecord{}
	type id struct {
		liid string
		cin  uint32
		kind string
		seq  uint32
	}
	first := map[id][]byte{}
	for _, r := range recs {
		if r.CIN == nil {
			t.Fatalf("record without CIN: %+v", r)
		}
		if r.Conflict {
			t.Fatalf("conflicting re-send: %+v", r)
		}
		k := id{r.LIID, *r.CIN, r.Kind + r.Profile, r.Seq}
		if prev, ok := first[k]; ok {
			if !allowDup {
				t.Fatalf("record received twice: %+v", k)
			}
			if !r.Duplicate || !bytes.Equal(prev, r.Raw) {
				t.Fatalf("re-sent record %+v: duplicate=%v, identical=%v", k, r.Duplicate, bytes.Equal(prev, r.Raw))
			}
			continue
		}
		first[k] = r.Raw
		sk := streamKey{r.HI, r.Conn, r.LIID, *r.CIN, r.Kind + r.Profile}
		if allowDup {
			sk.conn = 0 // streams continue across connections
		}
		if n := len(out[sk]); uint32(n) != r.Seq {
			t.Fatalf("stream %+v: record %d has seq %d", sk, n, r.Seq)
		}
		out[sk] = append(out[sk], r)
	}
	return out
}

// TestDeliverBothProfiles: X2/X3 for a task with two warrants reach three
// destinations (HI2 TS 102 232, HI2 TS 101 671, HI3), in order, numbered
// per (LIID, CIN, IRI|CC), confirmed by PDU acknowledgement, and the
// independent decoder accepts every byte the LEMF received.
func TestDeliverBothProfiles(t *testing.T) {
	rawDir := t.TempDir()
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{RawDir: rawDir, OnRecord: col.add})

	cfg := baseConfig()
	cfg.OperatorID = "RCDS"
	cfg.Destinations = map[string]DestinationConfig{did671: {Profile: Profile101671}}
	e := newEnv(t, cfg)
	e.createDest(didHI2, x1.X2Only, lemf.l.HI2Addr())
	e.createDest(didHI3, x1.X3Only, lemf.l.HI3Addr())
	e.createDest(did671, x1.X2Only, lemf.l.HI2Addr())
	e.activate(xidA,
		x1.MediationDetails{LIID: "LIID-A", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2, didHI3, did671}},
		x1.MediationDetails{LIID: "LIID-B", DeliveryType: x1.HI2Only, DIDs: []string{didHI2}},
	)

	const n = 40
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	ctx := context.Background()
	send := func(p *x2x3.PDU) {
		if err := e.mdf.Send(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	send(g.login(0, 1))
	for i := 0; i < n; i++ {
		x2, x3 := g.message(i, uint64(1+i%2))
		send(x2)
		send(x3)
	}
	if err := e.mdf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	e.run()
	want := 2*(n+1) + (n + 1) + n // LIID-A IRI ×2 profiles, LIID-B IRI, LIID-A CC
	waitFor(t, "all records", func() bool { return len(col.data()) >= want })
	waitFor(t, "all confirmed", func() bool {
		for _, d := range e.mdf.Stats().Destinations {
			if d.Queue.Records != 0 {
				return false
			}
		}
		return true
	})
	recs := col.data()
	if len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	streams := checkStreams(t, recs, false)

	// CINs: per LIID from 1, one per correlation ID, the same for IRI and CC.
	cins := map[string]map[uint32]bool{}
	for k := range streams {
		if cins[k.liid] == nil {
			cins[k.liid] = map[uint32]bool{}
		}
		cins[k.liid][k.cin] = true
	}
	if fmt.Sprint(cins) != "map[LIID-A:map[1:true 2:true] LIID-B:map[1:true 2:true]]" {
		t.Fatalf("CINs %v", cins)
	}
	// Content and event identifiers: the CC of message i carries body i and
	// the event identifier of its IRI.
	var iri102, iri671, cc int
	events := map[string]string{}
	for _, r := range recs {
		switch {
		case r.Kind == "cc":
			cc++
			i := int(*r.EventID) - 1
			if !bytes.Equal(r.Content, messageBody(i)) || r.ContentType != "text/plain; charset=UTF-8" {
				t.Fatalf("CC event %d: %q %q", *r.EventID, r.ContentType, r.Content)
			}
			if want := uint64(1 + i%2); uint64(*r.CIN) != want {
				t.Fatalf("CC of message %d on CIN %d, want %d", i, *r.CIN, want)
			}
			events[fmt.Sprintf("%d/%d", *r.CIN, *r.EventID)] += "c"
		case r.Profile == "101671":
			iri671++
			if r.LIID != "LIID-A" || r.From != "target@example.com" {
				t.Fatalf("671 record %+v", r)
			}
		default:
			iri102++
			if r.Category == "message:deposit" && r.LIID == "LIID-A" {
				events[fmt.Sprintf("%d/%d", *r.CIN, *r.EventID)] += "i"
				if r.From != "target@example.com" || strings.Join(r.To, ",") != "peer@example.net" || r.Status != "operation-succeeded" {
					t.Fatalf("IRI %+v", r)
				}
			}
		}
	}
	if iri102 != 2*(n+1) || iri671 != n+1 || cc != n {
		t.Fatalf("iri102=%d iri671=%d cc=%d", iri102, iri671, cc)
	}
	for k, v := range events {
		if v != "ic" && v != "ci" {
			t.Fatalf("event %s seen as %q, want one IRI and one CC", k, v)
		}
	}
	st := e.mdf.Stats()
	for _, d := range st.Destinations {
		if d.Mode != ModeAck || !d.Connected || d.Resent != 0 {
			t.Errorf("destination %s: %+v", d.DID, d)
		}
	}
	if st.Records != uint64(want) || st.Duplicates != 0 || st.Overflow != 0 {
		t.Fatalf("MDF stats %+v", st)
	}
	ls := lemf.l.Stats()
	if ls.Duplicates != 0 || ls.Conflicts != 0 || ls.DecodeErrors != 0 || ls.Malformed != 0 {
		t.Fatalf("LEMF stats %+v", ls)
	}
	e.stop()
	lemf.stop()
	got := decodeRaw(t, rawDir)
	kinds := col.kinds()
	total := 0
	for _, v := range kinds {
		total += v
	}
	if got != total {
		t.Fatalf("etsi-ber-decode decoded %d records, the LEMF saw %d (%v)", got, total, kinds)
	}
}

// TestKeepaliveConfirmation: a LEMF that declines the option, or does not
// answer it, is confirmed by keep-alives.
func TestKeepaliveConfirmation(t *testing.T) {
	for _, pol := range []OptionPolicy{OptionsDecline, OptionsIgnore} {
		t.Run(string(pol), func(t *testing.T) {
			rawDir := t.TempDir()
			col := newCollector()
			lemf := startLEMF(t, LEMFConfig{RawDir: rawDir, OnRecord: col.add, Options: pol})
			e := newEnv(t, baseConfig())
			e.createDest(didHI2, x1.X2andX3, lemf.l.HI2Addr())
			e.activate(xidA, x1.MediationDetails{LIID: "LIID-K", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2}})
			e.run()
			g := &pduGen{t: t, xid: mustXID(t, xidA)}
			const n = 25
			for i := 0; i < n; i++ {
				x2, x3 := g.message(i, 7)
				e.mdf.Send(context.Background(), x2)
				e.mdf.Send(context.Background(), x3)
			}
			if err := e.mdf.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "confirmation", func() bool {
				d := e.mdf.Stats().Destinations[0]
				return d.Confirmed == 2*n && d.Queue.Records == 0
			})
			d := e.mdf.Stats().Destinations[0]
			if d.Mode != ModeKeepalive {
				t.Fatalf("mode %q, want keep-alive", d.Mode)
			}
			checkStreams(t, col.data(), false)
			if k := col.kinds(); k["ack_request"] != 0 || k["keepalive"] == 0 || k["option_complete"] != 0 {
				t.Fatalf("record kinds %v", k)
			}
			e.stop()
			lemf.stop()
			decodeRaw(t, rawDir)
		})
	}
}

// TestRouting: delivery type, warrant window and destination type decide
// who gets what; PDUs outside every window are counted, not queued.
func TestRouting(t *testing.T) {
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{OnRecord: col.add})
	e := newEnv(t, baseConfig())
	e.createDest(didHI2, x1.X2Only, lemf.l.HI2Addr())
	e.createDest(didHI3, x1.X3Only, lemf.l.HI3Addr())
	e.activate(xidA,
		// HI3 only: no IRI for this warrant, even though didHI2 is listed.
		x1.MediationDetails{LIID: "CC-ONLY", DeliveryType: x1.HI3Only, DIDs: []string{didHI2, didHI3}},
		// A window covering messages 10..19 only.
		x1.MediationDetails{LIID: "WINDOW", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2, didHI3},
			StartTime: baseTime.Add(10 * 1e6), EndTime: baseTime.Add(20 * 1e6)},
	)
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	for i := 0; i < 30; i++ {
		x2, x3 := g.message(i, 1)
		e.mdf.Send(context.Background(), x2)
		e.mdf.Send(context.Background(), x3)
	}
	e.mdf.Flush(context.Background())
	// CC-ONLY: 30 CC; WINDOW: 10 IRI + 10 CC.
	waitFor(t, "records", func() bool { return len(col.data()) >= 50 })
	count := map[string]int{}
	for _, r := range col.data() {
		count[r.HI+"/"+r.LIID+"/"+r.Kind]++
		if r.LIID == "WINDOW" && (r.Time.Before(baseTime.Add(10e6)) || !r.Time.Before(baseTime.Add(20e6))) {
			t.Fatalf("record outside the window: %+v", r)
		}
	}
	want := "map[hi2/WINDOW/iri:10 hi3/CC-ONLY/cc:30 hi3/WINDOW/cc:10]"
	if fmt.Sprint(count) != want {
		t.Fatalf("records %v, want %s", count, want)
	}
	if st := e.mdf.Stats(); st.NoRoute != 20 || st.Records != 50 {
		t.Fatalf("stats: NoRoute %d Records %d", st.NoRoute, st.Records)
	}
}

// TestFormat15: MIME X3 from another vendor's POI becomes messagingCC with
// an event identifier the MDF assigns (per LIID and CIN, from 0).
func TestFormat15(t *testing.T) {
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{OnRecord: col.add})
	e := newEnv(t, baseConfig())
	e.createDest(didHI3, x1.X3Only, lemf.l.HI3Addr())
	e.activate(xidA, x1.MediationDetails{LIID: "MIME", DeliveryType: x1.HI3Only, DIDs: []string{didHI3}})
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	for i := 0; i < 3; i++ {
		p := g.stamp(&x2x3.PDU{Type: x2x3.TypeX3, Format: x2x3.FormatMIME, Direction: x2x3.DirToTarget,
			CorrelationID: 5, Payload: messageBody(i)}, i)
		p.Attrs.MIMEType = "text/x-msmsgscontrol"
		e.mdf.Send(context.Background(), p)
	}
	e.mdf.Flush(context.Background())
	waitFor(t, "records", func() bool { return len(col.data()) >= 3 })
	for i, r := range col.data() {
		if *r.EventID != uint32(i) || r.ContentType != "text/x-msmsgscontrol" || !bytes.Equal(r.Content, messageBody(i)) || r.Direction != "toTarget" {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
}

// TestBadX2X3: unknown XIDs, undecodable payloads, unsupported formats and
// keep-alive PDUs handed to Send are dropped, counted and audited; the MDF
// keeps accepting good PDUs.
func TestBadX2X3(t *testing.T) {
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{OnRecord: col.add})
	e := newEnv(t, baseConfig())
	e.createDest(didHI2, x1.X2andX3, lemf.l.HI2Addr())
	e.activate(xidA, x1.MediationDetails{LIID: "GOOD", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2}})
	e.run()
	ctx := context.Background()
	unknown := &pduGen{t: t, xid: mustXID(t, xidB)}
	good := &pduGen{t: t, xid: mustXID(t, xidA)}
	x2, _ := unknown.message(0, 1)
	bad := []*x2x3.PDU{
		x2,
		good.stamp(&x2x3.PDU{Type: x2x3.TypeX2, Format: x2x3.FormatETSI102232, Payload: []byte{0x30, 0x03, 0x01, 0x02}}, 0),
		good.stamp(&x2x3.PDU{Type: x2x3.TypeX2, Format: x2x3.FormatMIME, Payload: []byte("x")}, 0),
		good.stamp(&x2x3.PDU{Type: x2x3.TypeX3, Format: 9, Payload: []byte("sip")}, 0),
		x2x3.NewKeepalive(1),
	}
	for _, p := range bad {
		if err := e.mdf.Send(ctx, p); err != nil {
			t.Fatalf("Send of a bad PDU returned %v; want it dropped and counted", err)
		}
	}
	x2, x3 := good.message(1, 1)
	e.mdf.Send(ctx, x2)
	e.mdf.Send(ctx, x3)
	if err := e.mdf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "good records", func() bool { return len(col.data()) == 2 })
	st := e.mdf.Stats()
	if st.UnknownXID != 1 || st.BadPDU != 4 || st.Records != 2 {
		t.Fatalf("stats %+v", st)
	}
	e.stop()
	e.mdf.Close()
	audit, err := x1.ReadAudit(e.db, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, a := range audit {
		if a.Principal == auditPrincipal {
			ops[a.Operation]++
		}
	}
	// One unknown-XID entry, one bad-PDU entry (rate limited per XID: the
	// three bad PDUs of xidA and the keep-alive with a zero XID give two).
	if ops[AuditUnknownXID] != 1 || ops[AuditBadPDU] != 2 || ops[AuditConnected] == 0 || ops[AuditDelivered] == 0 {
		t.Fatalf("audit operations %v", ops)
	}
}

// TestDedupX2X3: a PDU the POI sends again (same sequence number, same
// bytes) is dropped, also after a restart of the MDF; a different PDU under
// an old sequence number (a restarted POI) is accepted.
func TestDedupX2X3(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.createDest(didHI2, x1.X2andX3, "127.0.0.1:9") // never connected
	e.activate(xidA, x1.MediationDetails{LIID: "DEDUP", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2}})
	ctx := context.Background()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	var sent []*x2x3.PDU
	for i := 0; i < 5; i++ {
		x2, x3 := g.message(i, 1)
		sent = append(sent, x2, x3)
	}
	for _, p := range sent {
		e.mdf.Send(ctx, p)
	}
	for _, p := range sent[6:] { // re-send the last two messages
		e.mdf.Send(ctx, p)
	}
	e.mdf.Flush(ctx)
	if st := e.mdf.Stats(); st.Records != 10 || st.Duplicates != 4 {
		t.Fatalf("stats %+v", st)
	}
	e.reopen()
	for _, p := range sent[4:] { // re-sent after the MDF restarted
		e.mdf.Send(ctx, p)
	}
	restarted := &pduGen{t: t, xid: mustXID(t, xidA)} // numbering from 0 again
	x2, _ := restarted.message(100, 3)
	e.mdf.Send(ctx, x2)
	e.mdf.Flush(ctx)
	if st := e.mdf.Stats(); st.Records != 1 || st.Duplicates != 6 {
		t.Fatalf("after restart: %+v", st)
	}
	if q := e.mdf.Stats().Destinations[0].Queue; q.Records != 11 {
		t.Fatalf("queue %+v", q)
	}
}

// TestSequenceNumbersSurviveRestart: CINs and sequence numbers continue
// after a restart; nothing is numbered twice.
func TestSequenceNumbersSurviveRestart(t *testing.T) {
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{OnRecord: col.add})
	e := newEnv(t, baseConfig())
	e.createDest(didHI2, x1.X2andX3, lemf.l.HI2Addr())
	e.activate(xidA, x1.MediationDetails{LIID: "RESTART", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2}})
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		for i := 0; i < 5; i++ {
			x2, x3 := g.message(round*10+i, uint64(round%2)) // CIN 1, 2, 1
			e.mdf.Send(ctx, x2)
			e.mdf.Send(ctx, x3)
		}
		if err := e.mdf.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		e.reopen()
	}
	e.run()
	waitFor(t, "records", func() bool { return len(col.data()) >= 30 })
	streams := checkStreams(t, col.data(), false)
	if len(streams[streamKey{"hi2", 1, "RESTART", 1, "iri"}]) != 10 || len(streams[streamKey{"hi2", 1, "RESTART", 2, "cc"}]) != 5 {
		t.Fatalf("streams %v", len(streams))
	}
}

// TestNewMDFValidation: identity fields come from configuration and are
// checked.
func TestNewMDFValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*MDFConfig)
	}{
		{"no operator", func(c *MDFConfig) { c.OperatorID = "" }},
		{"operator too long", func(c *MDFConfig) { c.OperatorID = strings.Repeat("o", 17) }},
		{"NE too long", func(c *MDFConfig) { c.NetworkElementID = strings.Repeat("n", 17) }},
		{"country 3", func(c *MDFConfig) { c.CountryCode = "DEU" }},
		{"country not printable", func(c *MDFConfig) { c.CountryCode = "D@" }},
		{"bad profile", func(c *MDFConfig) { c.Default.Profile = "999" }},
		{"671 operator too long", func(c *MDFConfig) {
			c.OperatorID = "OPERATOR"
			c.Destinations = map[string]DestinationConfig{did671: {Profile: Profile101671}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			tc.mod(&cfg)
			_, err := newMDF(cfg, nil, nil, nil)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestRecordHeaderRoundTrip(t *testing.T) {
	m := recordMeta{kind: etsi.KindCC, seq: 7, cin: 9, received: baseTime, liid: "LIID-XYZ"}
	b := appendRecordHeader(nil, &m)
	b = append(b, 0x30, 0x00)
	got, pdu, err := parseRecord(b)
	if err != nil || got.kind != m.kind || got.seq != 7 || got.cin != 9 || !got.received.Equal(baseTime) || got.liid != "LIID-XYZ" || !bytes.Equal(pdu, []byte{0x30, 0}) {
		t.Fatalf("round trip: %+v %x %v", got, pdu, err)
	}
	for _, bad := range [][]byte{nil, {2}, b[:10], b[:19]} {
		if _, _, err := parseRecord(bad); err == nil {
			t.Fatalf("parseRecord(%x) accepted", bad)
		}
	}
}

// TestConversionFailure: an IRI the TS 101 671 profile cannot carry (no
// time stamp) is refused for that destination only, counted and audited;
// its sequence number is used, so the 101 671 LEMF sees the gap, and the
// TS 102 232 destination gets every record.
func TestConversionFailure(t *testing.T) {
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{OnRecord: col.add})
	cfg := baseConfig()
	cfg.Destinations = map[string]DestinationConfig{did671: {Profile: Profile101671}}
	e := newEnv(t, cfg)
	e.createDest(didHI2, x1.X2Only, lemf.l.HI2Addr())
	e.createDest(did671, x1.X2Only, lemf.l.HI3Addr()) // on the HI3 listener, to tell them apart
	e.activate(xidA, x1.MediationDetails{LIID: "CONV", DeliveryType: x1.HI2Only, DIDs: []string{didHI2, did671}})
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	noTime, err := etsi.MarshalIRIPayload(&etsi.IRIPayload{IRIType: etsi.IRIReport, Contents: etsi.NewLoginIRI("target@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e.mdf.Send(ctx, g.login(0, 1))
	e.mdf.Send(ctx, g.stamp(&x2x3.PDU{Type: x2x3.TypeX2, Format: x2x3.FormatETSI102232, CorrelationID: 1, Payload: noTime}, 1))
	e.mdf.Send(ctx, g.login(2, 1))
	e.mdf.Flush(ctx)
	waitFor(t, "records", func() bool { return len(col.data()) == 5 })
	seqs := map[string][]uint32{}
	for _, r := range col.data() {
		seqs[r.HI] = append(seqs[r.HI], r.Seq)
	}
	if fmt.Sprint(seqs) != "map[hi2:[0 1 2] hi3:[0 2]]" {
		t.Fatalf("sequence numbers %v", seqs)
	}
	if st := e.mdf.Stats(); st.Conversion != 1 || st.Records != 5 {
		t.Fatalf("stats %+v", st)
	}
}
