package hi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"rcds/hi/etsi"
	"rcds/x1"
	"rcds/x2x3"
)

// sendMessages sends messages from..to-1 (X2 and X3 each) on corr.
func sendMessages(t testing.TB, m *MDF, g *pduGen, from, to int, corr func(i int) uint64) {
	t.Helper()
	for i := from; i < to; i++ {
		x2, x3 := g.message(i, corr(i))
		if err := m.Send(context.Background(), x2); err != nil {
			t.Fatal(err)
		}
		if err := m.Send(context.Background(), x3); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// messagesComplete reports whether every message below n arrived as IRI and
// CC (by event identifier, which is i+1).
func messagesComplete(recs []LEMFRecord, n int) bool {
	seen := make(map[uint32]int)
	for _, r := range recs {
		if r.EventID != nil && (r.Kind == "cc" || r.Category == "message:deposit") && !r.Duplicate {
			seen[*r.EventID]++
		}
	}
	for i := 1; i <= n; i++ {
		if seen[uint32(i)] < 2 {
			return false
		}
	}
	return true
}

// TestOutage: the LEMF is down while records flow, comes back, goes down
// again mid-stream and comes back: every record arrives, in order, none
// missing; records seen twice are re-sends with the same sequence number
// and the same bytes.
func TestOutage(t *testing.T) {
	for _, pol := range []OptionPolicy{OptionsAccept, OptionsDecline} {
		t.Run("options-"+string(pol), func(t *testing.T) {
			rawDir := t.TempDir()
			col := newCollector()
			lemf := startLEMF(t, LEMFConfig{RawDir: rawDir, OnRecord: col.add, Options: pol})
			lemf.stop() // down from the start; its ports are known

			e := newEnv(t, baseConfig())
			e.createDest(didHI2, x1.X2Only, lemf.l.HI2Addr())
			e.createDest(didHI3, x1.X3Only, lemf.l.HI3Addr())
			e.activate(xidA, x1.MediationDetails{LIID: "OUTAGE", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2, didHI3}})
			e.run()
			g := &pduGen{t: t, xid: mustXID(t, xidA)}
			corr := func(i int) uint64 { return uint64(i / 50) }

			sendMessages(t, e.mdf, g, 0, 150, corr) // LEMF down
			if st := e.mdf.Stats(); st.Destinations[0].DialFailures == 0 {
				waitFor(t, "a failed connection attempt", func() bool { return e.mdf.Stats().Destinations[0].DialFailures > 0 })
			}
			lemf.start(t)
			sendMessages(t, e.mdf, g, 150, 300, corr)
			waitFor(t, "first 200 messages", func() bool { return messagesComplete(col.data(), 200) })
			lemf.stop() // down mid-stream
			sendMessages(t, e.mdf, g, 300, 450, corr)
			lemf.start(t)
			sendMessages(t, e.mdf, g, 450, 600, corr)
			waitFor(t, "all messages", func() bool { return messagesComplete(col.data(), 600) })
			waitFor(t, "all confirmed", func() bool {
				for _, d := range e.mdf.Stats().Destinations {
					if d.Queue.Records != 0 {
						return false
					}
				}
				return true
			})
			streams := checkStreams(t, col.data(), true)
			total := 0
			for _, s := range streams {
				total += len(s)
				for _, r := range s {
					if ev := int(*r.EventID) - 1; uint64(*r.CIN) != corr(ev)+1 {
						t.Fatalf("message %d on CIN %d, want %d", ev, *r.CIN, corr(ev)+1)
					}
				}
			}
			if total != 1200 {
				t.Fatalf("%d distinct records, want 1200", total)
			}
			ls := lemf.l.Stats()
			if ls.Conflicts != 0 || ls.DecodeErrors != 0 {
				t.Fatalf("LEMF stats %+v", ls)
			}
			st := e.mdf.Stats()
			var confirmed uint64
			for _, d := range st.Destinations {
				confirmed += d.Confirmed
				if d.Connects < 2 {
					t.Errorf("destination %s connected %d times, want a reconnect", d.DID, d.Connects)
				}
			}
			if confirmed < 1200 {
				t.Fatalf("confirmed %d < 1200", confirmed)
			}
			t.Logf("duplicates (re-sent after the outage): %d; MDF re-sent %d", ls.Duplicates,
				st.Destinations[0].Resent+st.Destinations[1].Resent)
			e.stop()
			lemf.stop()
			// A connection the LEMF dropped mid-stream may end inside a
			// record: everything before must decode.
			decodeRawPrefix(t, rawDir)
		})
	}
}

// fakeLEMF accepts connections and hands each to behave.
func fakeLEMF(t *testing.T, behave func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				behave(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// badLEMFCase runs one misbehaving LEMF on didBad beside a good one on
// didHI2 (both HI2) and checks that the good one gets everything, the bad
// one's records stay queued, and the MDF keeps accepting.
func badLEMFCase(t *testing.T, cfg MDFConfig, badAddr string, n int, check func(t *testing.T, bad DestinationStats)) *env {
	col := newCollector()
	good := startLEMF(t, LEMFConfig{OnRecord: col.add})
	e := newEnv(t, cfg)
	e.createDest(didHI2, x1.X2andX3, good.l.HI2Addr())
	e.createDest(didBad, x1.X2andX3, badAddr)
	e.activate(xidA, x1.MediationDetails{LIID: "BAD", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2, didBad}})
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	sendMessages(t, e.mdf, g, 0, n, func(int) uint64 { return 1 })
	waitFor(t, "the good LEMF", func() bool { return messagesComplete(col.data(), n) })
	var bad DestinationStats
	waitFor(t, "the bad LEMF's effect", func() bool {
		for _, d := range e.mdf.Stats().Destinations {
			if d.DID == didBad {
				bad = d
			}
		}
		return bad.Disconnects >= 2
	})
	check(t, bad)
	if bad.Confirmed != 0 || bad.Queue.Records != int64(2*n)-int64(bad.Overflow) {
		t.Fatalf("bad destination lost records: %+v", bad)
	}
	// Still accepting, still delivering to the good one.
	sendMessages(t, e.mdf, g, n, n+5, func(int) uint64 { return 1 })
	waitFor(t, "the good LEMF again", func() bool { return messagesComplete(col.data(), n+5) })
	checkStreams(t, col.data(), false)
	return e
}

func TestLEMFSendsGarbage(t *testing.T) {
	addr := fakeLEMF(t, func(c net.Conn) {
		buf := make([]byte, 512)
		c.Read(buf)
		c.Write(bytes.Repeat([]byte{0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 10)) // a tag number that never ends
		io.Copy(io.Discard, c)
	})
	badLEMFCase(t, baseConfig(), addr, 20, func(t *testing.T, bad DestinationStats) {
		if bad.ProtocolErrors < 2 {
			t.Fatalf("protocol errors %d", bad.ProtocolErrors)
		}
	})
}

func TestLEMFClosesMidRecord(t *testing.T) {
	resp, err := etsi.Marshal(&etsi.PSPDU{
		Header: etsi.PSHeader{LIID: "X", CommunicationIdentifier: etsi.CommunicationIdentifier{
			NetworkIdentifier: etsi.NetworkIdentifier{OperatorIdentifier: "L"}}},
		Payload: &etsi.OptionResponse{AcceptedOptions: []etsi.Option{&etsi.PDUAcknowledgement{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := fakeLEMF(t, func(c net.Conn) {
		buf := make([]byte, 512)
		c.Read(buf)
		c.Write(resp[:len(resp)/2])
	})
	badLEMFCase(t, baseConfig(), addr, 20, func(t *testing.T, bad DestinationStats) {
		if bad.ProtocolErrors < 2 {
			t.Fatalf("protocol errors %d", bad.ProtocolErrors)
		}
	})
}

func TestLEMFNeverAnswersKeepalives(t *testing.T) {
	silent := startLEMF(t, LEMFConfig{Options: OptionsDecline, NoKeepaliveResponse: true})
	cfg := baseConfig()
	cfg.Timings.ProbeTimeout = 300 * time.Millisecond
	badLEMFCase(t, cfg, silent.l.HI2Addr(), 20, func(t *testing.T, bad DestinationStats) {
		if bad.ProbeTimeouts < 2 || bad.Sent != 40 || bad.Resent == 0 {
			t.Fatalf("%+v", bad)
		}
	})
	if ls := silent.l.Stats(); ls.Keepalives == 0 || ls.Duplicates == 0 || ls.Conflicts != 0 {
		t.Fatalf("silent LEMF stats %+v", ls)
	}
}

// TestLEMFStopsReading: a LEMF that accepts and never reads fills the TCP
// buffers; writes time out, the destination's queue reaches its cap and
// refuses records (counted, audited); the POI side and the other
// destination are not held up.
func TestLEMFStopsReading(t *testing.T) {
	block := make(chan struct{})
	addr := fakeLEMF(t, func(c net.Conn) { <-block })
	t.Cleanup(func() { close(block) })
	cfg := baseConfig()
	cfg.Timings.WriteTimeout = 200 * time.Millisecond
	cfg.Timings.OptionTimeout = 50 * time.Millisecond
	cfg.Destinations = map[string]DestinationConfig{didBad: {QueueMaxRecords: 150}}
	col := newCollector()
	good := startLEMF(t, LEMFConfig{OnRecord: col.add})
	e := newEnv(t, cfg)
	e.createDest(didHI2, x1.X2andX3, good.l.HI2Addr())
	e.createDest(didBad, x1.X3Only, addr)
	e.activate(xidA, x1.MediationDetails{LIID: "STALL", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2, didBad}})
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB per record
	for i := 0; i < 200; i++ {
		p := g.stamp(&x2x3.PDU{Type: x2x3.TypeX3, Format: x2x3.FormatMIME, Direction: x2x3.DirFromTarget,
			CorrelationID: 1, Payload: big}, i)
		p.Attrs.MIMEType = "application/octet-stream"
		if err := e.mdf.Send(context.Background(), p); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if err := e.mdf.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the good LEMF", func() bool { return len(col.data()) == 200 })
	var bad DestinationStats
	waitFor(t, "a write timeout", func() bool {
		bad = e.mdf.Stats().Destinations[1]
		return bad.WriteTimeouts > 0
	})
	if bad.DID != didBad || bad.Overflow != 50 || bad.Queue.Records != 150 || bad.Confirmed != 0 {
		t.Fatalf("stalled destination %+v", bad)
	}
	if st := e.mdf.Stats(); st.Overflow != 50 || st.Records != 350 {
		t.Fatalf("MDF stats %+v", st)
	}
	e.stop()
	e.mdf.Close()
	audit, _ := x1.ReadAudit(e.db, 0, 0)
	found := false
	for _, a := range audit {
		if a.Operation == AuditQueueOverflow && a.DID == didBad {
			found = true
		}
	}
	if !found {
		t.Fatal("no audit entry for the overflow")
	}
}

// TestQueueCapThenRecovery: with the LEMF away a capped queue refuses the
// records beyond its cap; the accepted ones are all delivered later.
func TestQueueCapThenRecovery(t *testing.T) {
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{OnRecord: col.add})
	lemf.stop()
	cfg := baseConfig()
	cfg.QueueMaxRecords = 10
	e := newEnv(t, cfg)
	e.createDest(didHI2, x1.X2andX3, lemf.l.HI2Addr())
	e.activate(xidA, x1.MediationDetails{LIID: "CAP", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2}})
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	sendMessages(t, e.mdf, g, 0, 15, func(int) uint64 { return 1 })
	if st := e.mdf.Stats(); st.Records != 10 || st.Overflow != 20 {
		t.Fatalf("stats %+v", st)
	}
	lemf.start(t)
	waitFor(t, "delivery", func() bool {
		d := e.mdf.Stats().Destinations[0]
		return d.Confirmed == 10 && d.Queue.Records == 0
	})
	recs := col.data()
	if len(recs) != 10 {
		t.Fatalf("%d records", len(recs))
	}
	checkStreams(t, recs, false)
	// Room again: new records are accepted.
	sendMessages(t, e.mdf, g, 15, 17, func(int) uint64 { return 1 })
	waitFor(t, "more", func() bool { return len(col.data()) == 14 })
}

func TestIntegrityChecks(t *testing.T) {
	rawDir := t.TempDir()
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{RawDir: rawDir, OnRecord: col.add})
	cfg := baseConfig()
	cfg.Default = DestinationConfig{Integrity: true, IntegrityGroup: 4}
	cfg.Destinations = map[string]DestinationConfig{did671: {Profile: Profile101671, Integrity: true, IntegrityGroup: 3}}
	e := newEnv(t, cfg)
	e.createDest(didHI2, x1.X2andX3, lemf.l.HI2Addr())
	e.createDest(did671, x1.X2Only, lemf.l.HI2Addr())
	e.activate(xidA, x1.MediationDetails{LIID: "INTEGRITY", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2, did671}})
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	sendMessages(t, e.mdf, g, 0, 30, func(i int) uint64 { return uint64(i % 3) })
	waitFor(t, "confirmed", func() bool {
		st := e.mdf.Stats()
		return st.Destinations[0].Confirmed+st.Destinations[1].Confirmed == 90
	})
	ls := lemf.l.Stats()
	if ls.IntegrityOK == 0 || ls.IntegrityFailed != 0 || ls.IntegrityUnverified != 0 {
		t.Fatalf("LEMF integrity: %+v", ls)
	}
	st := e.mdf.Stats()
	if st.Destinations[0].Integrity+st.Destinations[1].Integrity != ls.IntegrityOK {
		t.Fatalf("sent %d+%d integrity checks, %d verified", st.Destinations[0].Integrity, st.Destinations[1].Integrity, ls.IntegrityOK)
	}
	e.stop()
	lemf.stop()
	decodeRaw(t, rawDir)
}

func TestTLSDelivery(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{TLS: serverTLS, OnRecord: col.add})
	cfg := baseConfig()
	cfg.Default = DestinationConfig{TLS: clientTLS}
	e := newEnv(t, cfg)
	e.createDest(didHI2, x1.X2andX3, lemf.l.HI2Addr())
	e.activate(xidA, x1.MediationDetails{LIID: "TLS", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2}})
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	sendMessages(t, e.mdf, g, 0, 10, func(int) uint64 { return 1 })
	waitFor(t, "confirmed", func() bool { return e.mdf.Stats().Destinations[0].Confirmed == 20 })
	if !messagesComplete(col.data(), 10) {
		t.Fatal("records missing")
	}
	// A client that does not trust the LEMF's certificate is refused.
	cfg.Default = DestinationConfig{TLS: &tls.Config{RootCAs: x509.NewCertPool()}}
	e2 := newEnv(t, cfg)
	e2.createDest(didHI2, x1.X2andX3, lemf.l.HI2Addr())
	e2.run()
	waitFor(t, "failed handshakes", func() bool { return e2.mdf.Stats().Destinations[0].DialFailures >= 2 })
}

// TestDestinationModified: a new address takes effect at once (the worker
// reconnects without waiting for its backoff).
func TestDestinationModified(t *testing.T) {
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{OnRecord: col.add})
	cfg := baseConfig()
	cfg.Timings.BackoffMin, cfg.Timings.BackoffMax = time.Hour, time.Hour
	e := newEnv(t, cfg)
	e.createDest(didHI2, x1.X2andX3, "127.0.0.1:1") // nothing listens there
	e.activate(xidA, x1.MediationDetails{LIID: "MOVE", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2}})
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	sendMessages(t, e.mdf, g, 0, 5, func(int) uint64 { return 1 })
	waitFor(t, "a failed attempt", func() bool { return e.mdf.Stats().Destinations[0].DialFailures > 0 })
	e.apply(&x1.ModifyDestinationRequest{Destination: x1.Destination{DID: didHI2, DeliveryType: x1.X2andX3, Address: lemf.l.HI2Addr()}})
	waitFor(t, "delivery", func() bool { return e.mdf.Stats().Destinations[0].Confirmed == 10 })
	// Removing it stops its worker; its queue stays on disk.
	sendMessages(t, e.mdf, g, 5, 6, func(int) uint64 { return 1 })
	waitFor(t, "delivery", func() bool { return e.mdf.Stats().Destinations[0].Confirmed == 12 })
	e.apply(&x1.DeactivateTaskRequest{XID: xidA})
	e.apply(&x1.RemoveDestinationRequest{DID: didHI2})
	if n := len(e.mdf.Stats().Destinations); n != 0 {
		t.Fatalf("%d destinations after removal", n)
	}
	x2, _ := g.message(99, 1)
	e.mdf.Send(context.Background(), x2)
	if st := e.mdf.Stats(); st.UnknownXID != 1 {
		t.Fatalf("PDU of a deactivated task: %+v", st)
	}
}

// testTLS returns a LEMF server configuration with a fresh self-signed
// certificate for 127.0.0.1 and a client configuration trusting it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test LEMF"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}

// TestLEMFSendsUnexpectedPDU: a well-formed PDU the MDF did not ask for (a
// LEMF's own optionRequest) is logged and ignored; delivery goes on.
func TestLEMFSendsUnexpectedPDU(t *testing.T) {
	col := newCollector()
	l, err := NewLEMF(LEMFConfig{HI2Listen: "unused", OnRecord: col.add}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	req, err := etsi.Marshal(&etsi.PSPDU{
		Header: etsi.PSHeader{LIID: "LEMF", CommunicationIdentifier: etsi.CommunicationIdentifier{
			NetworkIdentifier: etsi.NetworkIdentifier{OperatorIdentifier: "L"}}},
		Payload: &etsi.OptionRequest{RequestedOptions: []etsi.Option{&etsi.PDUAcknowledgement{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := fakeLEMF(t, func(c net.Conn) {
		c.Write(req)
		l.newConn(c, c.SetWriteDeadline, 0, 1).consume(c)
	})
	e := newEnv(t, baseConfig())
	e.createDest(didHI2, x1.X2andX3, addr)
	e.activate(xidA, x1.MediationDetails{LIID: "UNEXPECTED", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2}})
	e.run()
	g := &pduGen{t: t, xid: mustXID(t, xidA)}
	sendMessages(t, e.mdf, g, 0, 10, func(int) uint64 { return 1 })
	waitFor(t, "confirmation", func() bool { return e.mdf.Stats().Destinations[0].Confirmed == 20 })
	d := e.mdf.Stats().Destinations[0]
	if d.Ignored != 1 || d.ProtocolErrors != 0 || d.Connects != 1 || d.Mode != ModeAck {
		t.Fatalf("%+v", d)
	}
	checkStreams(t, col.data(), false)
}
