package etsi

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestTo671RoundTrip: every MSN constructor survives the TS 101 671
// profile and MessagingFrom671 recovers the MessagingIRI.
func TestTo671RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    *MessagingIRI
		typ  IRIType
	}{
		{"login", NewLoginIRI(alice), IRIBegin},
		{"logout", NewLogoutIRI(alice, true), IRIEnd},
		{"presence", NewPresenceIRI(alice, bob, "AWY"), IRIReport},
		{"contact", NewContactIRI(alice, bob, "AL"), IRIReport},
		{"nickname long", NewNicknameIRI(alice, longNick), IRIReport},
		{"personal message", NewPersonalMessageIRI(alice, "☀ out"), IRIReport},
		{"session start", NewSessionStartIRI(alice, []string{bob, carol}), IRIBegin},
		{"session join", NewSessionJoinIRI(alice, carol), IRIContinue},
		{"session leave", NewSessionLeaveIRI(alice, carol), IRIContinue},
		{"session end", NewSessionEndIRI(alice, false), IRIEnd},
		{"message", NewMessageIRI(4000000000, alice, []string{bob}), IRIContinue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewIRIPayload(tc.typ, t0, tc.m)
			q, err := To671(p, &prm671)
			if err != nil {
				t.Fatal(err)
			}
			b, err := MarshalIRIPayload(q)
			if err != nil {
				t.Fatal(err)
			}
			// the bytes path gives the same result
			b2, err := AppendIRIPayload671(nil, mustIRI(t, p), &prm671)
			if err != nil || string(b) != string(b2) {
				t.Fatalf("AppendIRIPayload671 differs: %v", err)
			}
			var d IRIPayload
			if err := UnmarshalIRIPayload(b, &d); err != nil {
				t.Fatal(err)
			}
			c := d.Contents.(*ETSI671IRI).IRIsContent.(*IRIContent)
			if int(c.Record) != int(tc.typ) || c.Params.LIID != prm671.LIID || c.Params.CommunicationIdentifier.CIN != "4242" {
				t.Fatalf("record %v LIID %q CIN %q", c.Record, c.Params.LIID, c.Params.CommunicationIdentifier.CIN)
			}
			for _, np := range c.Params.NationalParameters {
				if len(np) > 256 || !utf8.Valid(np) {
					t.Fatalf("national parameter of %d octets / invalid UTF-8", len(np))
				}
			}
			m, typ, ts, err := MessagingFrom671(c)
			if err != nil {
				t.Fatal(err)
			}
			if typ != tc.typ || !ts.Equal(t0.Truncate(time.Millisecond)) {
				t.Fatalf("type %v time %v", typ, ts)
			}
			if !reflect.DeepEqual(m, tc.m) {
				t.Fatalf("MessagingFrom671 differs\n got %#v\nwant %#v", m, tc.m)
			}
		})
	}
}

func mustIRI(t *testing.T, p *IRIPayload) []byte {
	t.Helper()
	b, err := MarshalIRIPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTo671Details(t *testing.T) {
	p := NewIRIPayload(IRIContinue, t0, NewMessageIRI(9, alice, []string{bob}))
	p.PayloadDirection = Ptr(FromTarget)
	q, err := To671(p, &prm671)
	if err != nil {
		t.Fatal(err)
	}
	c := q.Contents.(*ETSI671IRI).IRIsContent.(*IRIContent)
	prmsw := c.Params
	if *prmsw.InterceptedCallDirect != DirectionOriginatingTarget {
		t.Fatalf("call direction %v", *prmsw.InterceptedCallDirect)
	}
	if !prmsw.DomainID.Equal(HI2OperationID()) || *prmsw.IRIVersion != IRIVersionLast {
		t.Fatal("domain ID / version")
	}
	if prmsw.NationalHI2ASN1Parameters.CountryCode != "DE" {
		t.Fatal("country code")
	}
	if n := prmsw.CommunicationIdentifier.NetworkIdentifier.NetworkElementIdentifier.(*NEID); n.Format != NEIDDNS || string(n.Value) != "mdf-1" {
		t.Fatal("network element")
	}
	want := []string{"category=message:deposit", "status=operation-succeeded", "trigger=user", "event-identifier=9"}
	var got []string
	for _, np := range prmsw.NationalParameters {
		got = append(got, string(np))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("national parameters %q", got)
	}
	if len(prmsw.PartyInformation) != 2 || prmsw.PartyInformation[0].Identity.Alphanumeric != alice || prmsw.PartyInformation[1].Qualifier != TerminatingParty671 {
		t.Fatalf("parties %+v", prmsw.PartyInformation)
	}
	// the original payload is not modified
	if _, ok := p.Contents.(*MessagingIRI); !ok {
		t.Fatal("To671 changed its input")
	}
}

func TestTo671Limits(t *testing.T) {
	many := make([]string, 14)
	for i := range many {
		many[i] = strings.Repeat("x", i+1) + "@example.com"
	}
	q, err := To671(NewIRIPayload(IRIContinue, t0, NewMessageIRI(1, alice, many)), &prm671)
	if err != nil {
		t.Fatal(err)
	}
	c := q.Contents.(*ETSI671IRI).IRIsContent.(*IRIContent)
	if len(c.Params.PartyInformation) != 10 {
		t.Fatalf("%d parties, want 10", len(c.Params.PartyInformation))
	}
	m, _, _, err := MessagingFrom671(c)
	if err != nil || len(m.Parties) != 15 {
		t.Fatalf("parties beyond 10 not carried in national parameters: %d, %v", len(m.Parties), err)
	}
	if _, err := MarshalIRIPayload(q); err != nil {
		t.Fatal(err)
	}

	// more than 40 national parameters: truncated, still encodable
	props := []Property{}
	for i := 0; i < 50; i++ {
		props = append(props, Subject("s"))
	}
	m2 := NewLoginIRI(alice)
	m2.Properties = props
	q, err = To671(NewIRIPayload(IRIBegin, t0, m2), &prm671)
	if err != nil {
		t.Fatal(err)
	}
	np := q.Contents.(*ETSI671IRI).IRIsContent.(*IRIContent).Params.NationalParameters
	if len(np) != 40 || string(np[39]) != "truncated=true" {
		t.Fatalf("%d parameters, last %q", len(np), np[len(np)-1])
	}
	if _, err := MarshalIRIPayload(q); err != nil {
		t.Fatal(err)
	}

	errs := []struct {
		name string
		p    *IRIPayload
		prm  Params671
	}{
		{"CIN 9 digits", NewIRIPayload(IRIBegin, t0, NewLoginIRI(alice)), Params671{LIID: "L", CIN: 100000000, OperatorID: "OP"}},
		{"operator 6 octets", NewIRIPayload(IRIBegin, t0, NewLoginIRI(alice)), Params671{LIID: "L", CIN: 1, OperatorID: "OPERAT"}},
		{"no time", &IRIPayload{IRIType: IRIBegin, Contents: NewLoginIRI(alice)}, Params671{LIID: "L", CIN: 1, OperatorID: "OP"}},
		{"not messaging", &IRIPayload{IRIType: IRIBegin, TimeStamp: t0, Contents: &Unknown{Raw: []byte{0xa2, 0x00}}}, Params671{LIID: "L", CIN: 1, OperatorID: "OP"}},
	}
	for _, e := range errs {
		if _, err := To671(e.p, &e.prm); !errors.Is(err, ErrNotConvertible) {
			t.Errorf("%s: err = %v", e.name, err)
		}
	}
	// a LIID the module forbids is caught when encoding
	q, err = To671(NewIRIPayload(IRIBegin, t0, NewLoginIRI(alice)), &Params671{LIID: strings.Repeat("L", 26), CIN: 1, OperatorID: "OP"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MarshalIRIPayload(q); !errors.Is(err, ErrInvalid) {
		t.Fatalf("26-octet LIID: %v", err)
	}
}

func TestNationalWriterSplitsAtRuneBoundaries(t *testing.T) {
	var w nationalWriter
	v := strings.Repeat("€", 200) // 600 octets
	w.add("subject", v)
	ps := w.params()
	if len(ps) != 3 || !strings.HasPrefix(string(ps[1]), "subject+=") {
		t.Fatalf("%d parameters", len(ps))
	}
	got := joinNational(ps)
	if len(got) != 1 || got[0][1] != v {
		t.Fatal("continuation not joined back")
	}
}
