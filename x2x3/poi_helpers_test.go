package x2x3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"rcds/capture"
	"rcds/decoder"
	"rcds/decoder/msnp"
	"rcds/hi/etsi"
	"rcds/internal/msngen"
	"rcds/store"
	"rcds/x1"
)

// memSink is a Sink keeping every PDU; block, when set, makes Send signal
// entered and wait for it to be closed.
type memSink struct {
	mu      sync.Mutex
	pdus    []*PDU
	entered chan struct{}
	block   chan struct{}
}

func (s *memSink) Send(_ context.Context, p *PDU) error {
	if s.block != nil {
		s.entered <- struct{}{}
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pdus = append(s.pdus, p)
	return nil
}

func (s *memSink) Flush(context.Context) error { return nil }

func (s *memSink) all() []*PDU {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pdus)
}

const testDID = "d3000000-0000-4000-8000-000000000001"

// newTestRegistry returns a registry on a fresh store holding one X2andX3
// destination.
func newTestRegistry(t testing.TB) *x1.Registry {
	t.Helper()
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, err := x1.OpenRegistry(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := reg.Apply(context.Background(), "test", &x1.CreateDestinationRequest{
		Destination: x1.Destination{DID: testDID, DeliveryType: x1.X2andX3, Address: "192.0.2.1:9992"}})
	if m.Error != nil {
		t.Fatalf("create destination: %+v", m.Error)
	}
	return reg
}

// newTask returns a task on targets (passports, or IP addresses/prefixes)
// with one warrant per window ([2]time.Time{start, end}; none: no
// mediationDetails).
func newTask(xid string, dt x1.DeliveryType, targets []string, windows ...[2]time.Time) x1.Task {
	t := x1.Task{XID: xid, DeliveryType: dt, DIDs: []string{testDID}}
	for _, s := range targets {
		k := x1.TargetEmail
		switch {
		case strings.Contains(s, "@"):
		case strings.Contains(s, "/") && strings.Contains(s, ":"):
			k = x1.TargetIPv6CIDR
		case strings.Contains(s, "/"):
			k = x1.TargetIPv4CIDR
		case strings.Contains(s, ":"):
			k = x1.TargetIPv6
		default:
			k = x1.TargetIPv4
		}
		t.Targets = append(t.Targets, x1.Target{Kind: k, Value: s})
	}
	hi := x1.HI2andHI3
	switch dt {
	case x1.X2Only:
		hi = x1.HI2Only
	case x1.X3Only:
		hi = x1.HI3Only
	}
	for i, w := range windows {
		t.Mediation = append(t.Mediation, x1.MediationDetails{
			LIID: fmt.Sprintf("LIID-%s-%d", xid[len(xid)-4:], i), DeliveryType: hi, StartTime: w[0], EndTime: w[1]})
	}
	return t
}

func activate(t testing.TB, reg *x1.Registry, task x1.Task) {
	t.Helper()
	if m := reg.Apply(context.Background(), "test", &x1.ActivateTaskRequest{Task: task}); m.Error != nil {
		t.Fatalf("activate %s: %+v", task.XID, m.Error)
	}
}

func deactivate(t testing.TB, reg *x1.Registry, xid string) {
	t.Helper()
	if m := reg.Apply(context.Background(), "test", &x1.DeactivateTaskRequest{XID: xid}); m.Error != nil {
		t.Fatalf("deactivate %s: %+v", xid, m.Error)
	}
}

// generated is a capture of msngen and the events it expects.
type generated struct {
	pcap   []byte
	events []decoder.Event
	res    msngen.Result
}

func generate(t testing.TB, opt msngen.Options) *generated {
	t.Helper()
	var buf bytes.Buffer
	g := &generated{}
	res, err := msngen.Generate(&buf, opt, func(e *decoder.Event) {
		c := *e
		c.To = slices.Clone(e.To)
		c.Raw = bytes.Clone(e.Raw)
		g.events = append(g.events, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	g.pcap, g.res = buf.Bytes(), res
	return g
}

// hookSource calls fn before handing out each packet.
type hookSource struct {
	capture.Source
	fn func(n int, ts time.Time)
	n  int
}

func (h *hookSource) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := h.Source.ReadPacket()
	if err == nil && h.fn != nil {
		h.n++
		h.fn(h.n, ci.Timestamp)
	}
	return data, ci, err
}

func (h *hookSource) LinkType() layers.LinkType { return h.Source.LinkType() }

// replay runs a capture through capture → Mux → MSNP into emit; hook is
// called before each packet (may be nil).
func replay(t testing.TB, pcap []byte, emit decoder.Emitter, logger *slog.Logger, hook func(n int, ts time.Time)) {
	t.Helper()
	src, err := capture.NewFileSource(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	cfg := capture.DefaultConfig()
	cfg.Logger = logger
	mux := decoder.NewMux(logger, emit, msnp.New(logger, msnp.Options{}))
	eng := capture.NewEngine(cfg, mux)
	if err := eng.Run(context.Background(), &hookSource{Source: src, fn: hook}); err != nil {
		t.Fatal(err)
	}
}

// packetTimes returns the timestamps of a capture's packets, in order.
func packetTimes(t testing.TB, pcap []byte) []time.Time {
	t.Helper()
	src, err := capture.NewFileSource(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Time
	for {
		_, ci, err := src.ReadPacket()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ci.Timestamp)
	}
}

// decoded is one PDU read back from the wire form with its payload decoded.
type decoded struct {
	p   *PDU
	iri *etsi.IRIPayload
	mi  *etsi.MessagingIRI
	cc  *etsi.CCPayload
	mc  *etsi.MessagingCC
}

// decodeStream marshals pdus back to back, reads them with a Reader and
// decodes every payload with hi/etsi; it returns the stream too.
func decodeStream(t testing.TB, pdus []*PDU) ([]decoded, []byte) {
	t.Helper()
	var stream []byte
	for i, p := range pdus {
		var err error
		if stream, err = p.AppendBinary(stream); err != nil {
			t.Fatalf("PDU %d: %v", i, err)
		}
	}
	rd := NewReader(bytes.NewReader(stream), 0)
	var out []decoded
	for {
		p, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read PDU %d: %v", len(out), err)
		}
		d := decoded{p: p}
		if p.Version != Version || p.Format != FormatETSI102232 {
			t.Fatalf("PDU %d: version %d format %d", len(out), p.Version, p.Format)
		}
		switch p.Type {
		case TypeX2:
			d.iri = new(etsi.IRIPayload)
			if err := etsi.UnmarshalIRIPayload(p.Payload, d.iri); err != nil {
				t.Fatalf("PDU %d: X2 payload: %v", len(out), err)
			}
			mi, ok := d.iri.Contents.(*etsi.MessagingIRI)
			if !ok {
				t.Fatalf("PDU %d: iRIContents %T", len(out), d.iri.Contents)
			}
			d.mi = mi
		case TypeX3:
			d.cc = new(etsi.CCPayload)
			if err := etsi.UnmarshalCCPayload(p.Payload, d.cc); err != nil {
				t.Fatalf("PDU %d: X3 payload: %v", len(out), err)
			}
			mc, ok := d.cc.Contents.(*etsi.MessagingCC)
			if !ok {
				t.Fatalf("PDU %d: cCContents %T", len(out), d.cc.Contents)
			}
			d.mc = mc
		default:
			t.Fatalf("PDU %d: type %s", len(out), p.Type)
		}
		out = append(out, d)
	}
	if len(out) != len(pdus) {
		t.Fatalf("read back %d PDUs of %d", len(out), len(pdus))
	}
	return out, stream
}

// ---------------------------------------------------------------------------
// The oracle: what a task must receive, computed from the generator's
// expected events independently of the POI's code.

func isMSG(k decoder.Kind) bool {
	return k == decoder.KindMessage || k == decoder.KindTyping || k == decoder.KindFileInvite || k == decoder.KindP2P
}

func isDelivered(k decoder.Kind) bool {
	return k != decoder.KindInfo && k != decoder.KindError
}

// wantIRI is the IRI type, category and parties the mapping table of
// README.md gives an event.
func wantIRI(e *decoder.Event) (etsi.IRIType, etsi.EventCategory, []string, []string, []string) {
	lo := strings.ToLower
	own := []string{lo(e.User)}
	switch e.Kind {
	case decoder.KindLogin:
		return etsi.IRIBegin, etsi.BoxLogin, own, nil, nil
	case decoder.KindLogout:
		return etsi.IRIEnd, etsi.BoxLogout, own, nil, nil
	case decoder.KindPresence:
		cat := etsi.BoxActivate
		if e.Status == "FLN" || e.Status == "HDN" {
			cat = etsi.BoxDeactivate
		}
		if e.Contact != "" && !strings.EqualFold(e.Contact, e.User) {
			return etsi.IRIReport, cat, []string{lo(e.Contact)}, own, []string{e.Status}
		}
		return etsi.IRIReport, cat, own, nil, []string{e.Status}
	case decoder.KindContactAdd:
		return etsi.IRIReport, etsi.MsgContact, own, []string{lo(e.Contact)}, nil
	case decoder.KindNickname:
		var term []string
		if e.Contact != "" && !strings.EqualFold(e.Contact, e.User) {
			term = []string{lo(e.Contact)}
		}
		return etsi.IRIReport, etsi.BoxGreetingChange, own, term, []string{e.Nick}
	case decoder.KindPersonalMessage:
		if e.Contact != "" && !strings.EqualFold(e.Contact, e.User) {
			return etsi.IRIReport, etsi.BoxGreetingChange, []string{lo(e.Contact)}, own, []string{e.Body}
		}
		return etsi.IRIReport, etsi.BoxGreetingChange, own, nil, []string{e.Body}
	case decoder.KindSessionStart:
		var term []string
		for _, m := range e.To {
			if !strings.EqualFold(m, e.User) {
				term = append(term, lo(m))
			}
		}
		return etsi.IRIBegin, etsi.BoxConnect, own, term, nil
	case decoder.KindSessionJoin:
		return etsi.IRIContinue, etsi.BoxAdditionalDestinationAdd, own, []string{lo(e.From)}, nil
	case decoder.KindSessionLeave:
		if strings.EqualFold(e.From, e.User) {
			return etsi.IRIEnd, etsi.BoxDisconnect, own, nil, nil
		}
		return etsi.IRIContinue, etsi.BoxAdditionalDestinationRemove, own, []string{lo(e.From)}, nil
	}
	var term []string
	for _, m := range e.To {
		term = append(term, lo(m))
	}
	return etsi.IRIContinue, etsi.MsgDeposit, []string{lo(e.From)}, term, nil
}

// wireBody is the MIME body of a MSG as on the wire.
func wireBody(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[i+4:]
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[i+2:]
	}
	return nil
}

func wantContentType(e *decoder.Event) string {
	if e.Charset != "" {
		return e.ContentType + "; charset=" + e.Charset
	}
	return e.ContentType
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

func signature(xid [16]byte, comm uint64, ts time.Time, typ etsi.IRIType, cat etsi.EventCategory, orig, term, subj []string, content string) string {
	o, tm := slices.Clone(orig), slices.Clone(term)
	slices.Sort(o)
	slices.Sort(tm)
	return fmt.Sprintf("%x|%016x|%d|%v|%T=%v|o=%s|t=%s|s=%q|c=%s", xid, comm, ts.UnixNano(), typ, cat, cat,
		strings.Join(o, ","), strings.Join(tm, ","), subj, content)
}

// expectedFor returns the signatures a task must receive: for every
// delivered kind but MSGs, one per event the target is involved in; for
// MSGs, one per message, from the copy on the target's own connection when
// there is one. Copies of one message: same sender, members, content type
// and body, on connections of different users to the same switchboard
// (same address when the IP version is the same), within a second of the
// first copy, which is the sender's when the sender's connection is
// captured. within limits the events considered (packet time).
func expectedFor(evs []decoder.Event, xid [16]byte, target string, x3 bool, within func(time.Time) bool) []string {
	tg, err := decoder.ParseTarget(target)
	if err != nil {
		panic(err)
	}
	var out []string
	type cluster struct {
		key    string
		first  time.Time
		copies []*decoder.Event
	}
	var clusters []*cluster
	for i := range evs {
		e := &evs[i]
		if !isDelivered(e.Kind) || !tg.Involves(e) || !within(e.Time) {
			continue
		}
		if !isMSG(e.Kind) {
			typ, cat, o, tm, s := wantIRI(e)
			out = append(out, signature(xid, e.Comm, e.Time, typ, cat, o, tm, s, ""))
			continue
		}
		members := []string{strings.ToLower(e.From)}
		for _, m := range e.To {
			if !slices.Contains(members, strings.ToLower(m)) {
				members = append(members, strings.ToLower(m))
			}
		}
		slices.Sort(members)
		key := strings.Join(members, ",") + "|" + strings.ToLower(e.From) + "|" + e.ContentType + "|" + string(wireBody(e.Raw))
		var c *cluster
		// The sender's own copy is the first of its message.
		sender := e.FromClient && strings.EqualFold(e.From, e.User)
		for _, x := range clusters {
			if sender || x.key != key || e.Time.Sub(x.first) > time.Second {
				continue
			}
			if !slices.ContainsFunc(x.copies, func(y *decoder.Event) bool {
				sameFamily := y.Server.Addr().Is4() == e.Server.Addr().Is4()
				return y.Comm == e.Comm || strings.EqualFold(y.User, e.User) || sameFamily && y.Server != e.Server
			}) {
				c = x
				break
			}
		}
		if c == nil {
			c = &cluster{key: key, first: e.Time}
			clusters = append(clusters, c)
		}
		c.copies = append(c.copies, e)
	}
	for _, c := range clusters {
		pick := c.copies[0]
		for _, e := range c.copies {
			if tg.Passport() != "" && strings.EqualFold(e.User, tg.Passport()) {
				pick = e
				break
			}
		}
		typ, cat, o, tm, _ := wantIRI(pick)
		content := ""
		if x3 {
			content = wantContentType(pick) + ":" + digest(wireBody(pick.Raw))
		}
		out = append(out, signature(xid, pick.Comm, pick.Time, typ, cat, o, tm, nil, content))
	}
	slices.Sort(out)
	return out
}

// partyNames returns the originating and terminating passports of an IRI.
func partyNames(t testing.TB, mi *etsi.MessagingIRI) (orig, term []string) {
	t.Helper()
	for _, p := range mi.Parties {
		ids, ok := p.Identity.(etsi.EmailAddresses)
		if !ok || len(ids) != 1 {
			t.Fatalf("party identity %#v is not one e-mail address", p.Identity)
		}
		switch p.Qualifier {
		case etsi.OriginatingParty:
			orig = append(orig, strings.ToLower(ids[0]))
		case etsi.TerminatingParty:
			term = append(term, strings.ToLower(ids[0]))
		default:
			t.Fatalf("party qualifier %v", p.Qualifier)
		}
	}
	return orig, term
}

func subjects(mi *etsi.MessagingIRI) []string {
	var s []string
	for _, p := range mi.Properties {
		if v, ok := p.(etsi.Subject); ok {
			s = append(s, string(v))
		}
	}
	return s
}

// gotSignatures checks the PDUs of one XID (sequence numbers, pairing of
// IRI and CC by event-identifier, attributes) and returns their
// signatures, comparable with expectedFor.
func gotSignatures(t testing.TB, ds []decoded, xid [16]byte, target string, x2, x3 bool) []string {
	t.Helper()
	var seq uint32
	ccByID := map[uint32]*decoded{}
	var out []string
	var iris []*decoded
	for i := range ds {
		d := &ds[i]
		p := d.p
		if p.XID != xid {
			continue
		}
		if p.Attrs.SeqNo == nil || *p.Attrs.SeqNo != seq {
			t.Fatalf("XID %x: PDU %d has sequence number %v, want %d", xid, i, p.Attrs.SeqNo, seq)
		}
		seq++
		if p.Attrs.MatchedTarget != target {
			t.Errorf("PDU %d: matched target %q, want %q", i, p.Attrs.MatchedTarget, target)
		}
		if p.Attrs.IPProtocol != 6 || !p.Attrs.Src.IsValid() || !p.Attrs.Dst.IsValid() || p.Attrs.Timestamp.IsZero() {
			t.Errorf("PDU %d: attributes %+v lack the packet's addresses, protocol or time", i, p.Attrs)
		}
		if p.Direction != DirFromTarget && p.Direction != DirToTarget {
			t.Errorf("PDU %d: direction %d", i, p.Direction)
		}
		switch p.Type {
		case TypeX2:
			if !x2 {
				t.Fatalf("PDU %d: X2 for a task without X2", i)
			}
			if !d.iri.TimeStamp.Equal(p.Attrs.Timestamp.Truncate(time.Millisecond)) {
				t.Errorf("PDU %d: IRI time %v, attribute %v", i, d.iri.TimeStamp, p.Attrs.Timestamp)
			}
			iris = append(iris, d)
		case TypeX3:
			if !x3 {
				t.Fatalf("PDU %d: X3 for a task without X3", i)
			}
			if _, dup := ccByID[d.mc.EventIdentifier]; dup {
				t.Fatalf("PDU %d: event-identifier %d used twice", i, d.mc.EventIdentifier)
			}
			if p.Attrs.MIMEType != d.mc.ContentType {
				t.Errorf("PDU %d: MIME attribute %q, content-type %q", i, p.Attrs.MIMEType, d.mc.ContentType)
			}
			want := etsi.FromTarget
			if p.Direction == DirToTarget {
				want = etsi.ToTarget
			}
			if d.cc.PayloadDirection == nil || *d.cc.PayloadDirection != want {
				t.Errorf("PDU %d: CC direction %v, header %d", i, d.cc.PayloadDirection, p.Direction)
			}
			ccByID[d.mc.EventIdentifier] = d
		}
	}
	seenIDs := map[uint32]bool{}
	for _, d := range iris {
		orig, term := partyNames(t, d.mi)
		content := ""
		if _, isMsg := d.mi.Category.(etsi.MessageEvent); isMsg && d.mi.Category == etsi.MsgDeposit {
			if d.mi.EventIdentifier == nil {
				t.Fatalf("deposit IRI without event-identifier")
			}
			id := *d.mi.EventIdentifier
			if seenIDs[id] {
				t.Fatalf("event-identifier %d on two IRIs", id)
			}
			seenIDs[id] = true
			if x3 {
				cc := ccByID[id]
				if cc == nil {
					t.Fatalf("deposit IRI with event-identifier %d has no CC", id)
				}
				if cc.p.CorrelationID != d.p.CorrelationID || !cc.p.Attrs.Timestamp.Equal(d.p.Attrs.Timestamp) {
					t.Errorf("IRI and CC %d: correlation %x/%x, time %v/%v", id, d.p.CorrelationID, cc.p.CorrelationID,
						d.p.Attrs.Timestamp, cc.p.Attrs.Timestamp)
				}
				delete(ccByID, id)
				content = cc.mc.ContentType + ":" + digest(cc.mc.Content)
			}
			if len(subjects(d.mi)) > 0 {
				t.Errorf("deposit IRI with a subject")
			}
		}
		out = append(out, signature(xid, d.p.CorrelationID, d.p.Attrs.Timestamp, d.iri.IRIType, d.mi.Category, orig, term, subjects(d.mi), content))
	}
	if x2 && len(ccByID) > 0 {
		t.Errorf("%d CCs without a deposit IRI", len(ccByID))
	}
	if !x2 {
		for id, cc := range ccByID {
			out = append(out, fmt.Sprintf("cc|%d|%016x|%d|%s:%s", id, cc.p.CorrelationID, cc.p.Attrs.Timestamp.UnixNano(),
				cc.mc.ContentType, digest(cc.mc.Content)))
		}
	}
	slices.Sort(out)
	return out
}

// diffSignatures reports the first differences between two sorted lists.
func diffSignatures(t testing.TB, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	g := map[string]int{}
	for _, s := range got {
		g[s]++
	}
	for _, s := range want {
		g[s]--
	}
	n := 0
	for s, c := range g {
		if c != 0 && n < 12 {
			side := "extra"
			if c < 0 {
				side = "missing"
			}
			t.Errorf("%s: %s (%+d): %s", what, side, c, s)
			n++
		}
	}
	t.Fatalf("%s: got %d PDUs' worth of signatures, want %d", what, len(got), len(want))
}

func mustXID(t testing.TB, s string) [16]byte {
	t.Helper()
	x, ok := parseXID(s)
	if !ok {
		t.Fatalf("bad XID %q", s)
	}
	return x
}

// lockedBuffer is a goroutine-safe log sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}
