package etsi

import (
	"bytes"
	"strings"
	"time"
)

// Test corpus: one record of every kind RCDS sends, in both profiles. The
// validator test, the round-trip test and the golden files all use it.

var (
	t0        = time.Date(2024, 3, 1, 12, 30, 45, 123456000, time.UTC)
	alice     = "alice@example.com"
	bob       = "bob@example.net"
	carol     = "carol@example.org"
	prm671    = Params671{LIID: "LIID-671", CIN: 4242, OperatorID: "RCDS", NetworkElementID: "mdf-1", CountryCode: "DE"}
	longNick  = strings.Repeat("Ünïcødé nick ", 30) // > 256 octets: national-parameter continuation
	bigBody   = bytes.Repeat([]byte("0123456789abcdef"), 4500)
	p2pBinary = []byte{0x00, 0x01, 0xfe, 0xff, 0x80, 0x7f, 0x0d, 0x0a}
)

func hdr(liid string, cin, seq uint32, ts time.Time) PSHeader {
	return PSHeader{
		LIID:                     liid,
		AuthorizationCountryCode: "DE",
		CommunicationIdentifier: CommunicationIdentifier{
			NetworkIdentifier:   NetworkIdentifier{OperatorIdentifier: "RCDS-OPERATOR", NetworkElementIdentifier: "mdf-1"},
			CIN:                 &cin,
			DeliveryCountryCode: "DE",
		},
		SequenceNumber:       seq,
		TimeStamp:            ts,
		MicroSecondTimeStamp: Ptr(MicroTime(ts)),
		TimeStampQualifier:   Ptr(TSQTimeOfMediation),
	}
}

func iriPDU(seq uint32, p ...*IRIPayload) *PSPDU {
	s := IRIPayloadSequence{}
	for _, x := range p {
		s = append(s, *x)
	}
	return &PSPDU{Header: hdr("LIID-1", 7, seq, t0), Payload: s}
}

func ccPDU(seq uint32, p ...*CCPayload) *PSPDU {
	s := CCPayloadSequence{}
	for _, x := range p {
		s = append(s, *x)
	}
	return &PSPDU{Header: hdr("LIID-1", 7, seq, t0), Payload: s}
}

func triPDU(seq uint32, t TRIPayload) *PSPDU {
	return &PSPDU{Header: hdr("LIID-1", 0, seq, t0), Payload: t}
}

func must671(p *IRIPayload) *IRIPayload {
	q, err := To671(p, &prm671)
	if err != nil {
		panic(err)
	}
	return q
}

type namedPDU struct {
	name string
	pdu  *PSPDU
}

// kitchenSink uses every modelled alternative of the messaging types.
func kitchenSink() *MessagingIRI {
	return &MessagingIRI{
		SystemType:       UnifiedMessaging,
		SystemIdentifier: []byte("msn"),
		Category:         NotificationEvent(NotifyGeneric),
		Status:           StatusStarted,
		Parties: []PartyInformation{
			{Qualifier: OriginatingParty, Identity: EmailAddresses{alice, bob}, Validity: Ptr(ValidityTrusted), CopyQualifier: Ptr(CopyNone)},
			{Qualifier: TerminatingParty, Identity: Alphanumeric("Ünïcødé")},
			{Qualifier: AssociatedParty, Identity: &IPAddress{Type: IPv4, Binary: []byte{192, 0, 2, 1}, Assignment: Ptr(AssignDynamic), SubnetMask: []byte{255, 255, 255, 0}}},
			{Qualifier: UnknownParty, Identity: &IPAddressAndPort{Address: IPAddress{Type: IPv6, Text: "2001:db8::1", PrefixLength: Ptr(uint8(64))}, Port: 1863}},
			{Qualifier: TerminatingParty, Identity: &OctetIdentity{Tag: 11, Value: []byte("sip:carol@example.org")}},
			{Qualifier: TerminatingParty, Identity: &OctetIdentity{Tag: 0, Value: []byte{0x91, 0x94, 0x71}}},
		},
		Trigger: TriggerUserAgent,
		Properties: []Property{
			Pincode("1234"), PriorityHigh, GreetingAbsence, NotificationType(4), Language("de-DE"),
			MessageIdentifier{1, 2, 3}, Subject("Betreff ✓"), UserAgent("MSNMSGR 8.5"), Password("pw"),
			MessageStatus(8), RequestedReports(3), Expires(t0.Add(time.Hour).Truncate(time.Millisecond)),
			MessageDate(t0.Truncate(time.Millisecond)),
		},
		EventIdentifier: Ptr(uint32(4294967295)),
		OriginalMessage: []byte("MSG 5 N 3\r\nhey"),
		BoxIdentifier:   []byte{0xb0, 0x0c},
	}
}

func corpus() []namedPDU {
	begin := func(m *MessagingIRI) *IRIPayload { return NewIRIPayload(IRIBegin, t0, m) }
	cont := func(m *MessagingIRI) *IRIPayload { return NewIRIPayload(IRIContinue, t0, m) }
	end := func(m *MessagingIRI) *IRIPayload { return NewIRIPayload(IRIEnd, t0, m) }
	report := func(m *MessagingIRI) *IRIPayload { return NewIRIPayload(IRIReport, t0, m) }
	withDir := func(p *IRIPayload, d PayloadDirection) *IRIPayload { p.PayloadDirection = &d; return p }

	hdrAll := hdr("LIID-opts", 99, 1, t0)
	hdrAll.InterceptionPointID = "POI-1"
	hdrAll.ExtendedInterceptionPointID = []byte("poi-1.example")
	hdrAll.NetworkFunctionIdentifier = []byte{1, 2, 3}
	hdrNEID := hdr("LIID-neid", 5, 1, t0)
	hdrNEID.CommunicationIdentifier.NetworkIdentifier.NetworkElementIdentifier = ""
	hdrNEID.CommunicationIdentifier.NetworkIdentifier.ETSI671NEID = &NEID{Format: NEIDDNS, Value: []byte("mdf-1.example")}
	hdrMin := PSHeader{LIID: "L", CommunicationIdentifier: CommunicationIdentifier{NetworkIdentifier: NetworkIdentifier{OperatorIdentifier: "O"}}, SequenceNumber: 4294967295}

	seqRecs := [][]byte{[]byte("record 100"), []byte("record 101"), []byte("record 102")}
	ic, err := NewIntegrityCheck(DataIRI, []uint32{100, 101, 102}, seqRecs)
	if err != nil {
		panic(err)
	}

	return []namedPDU{
		{"iri-login-begin", iriPDU(1, begin(NewLoginIRI(alice)))},
		{"iri-logout-end", iriPDU(2, end(NewLogoutIRI(alice, false)))},
		{"iri-logout-closed-end", iriPDU(3, end(NewLogoutIRI(alice, true)))},
		{"iri-presence-own-report", iriPDU(4, report(NewPresenceIRI(alice, "", "BSY")))},
		{"iri-presence-contact-report", iriPDU(5, report(NewPresenceIRI(alice, bob, "FLN")))},
		{"iri-contact-report", iriPDU(6, report(NewContactIRI(alice, bob, "FL")))},
		{"iri-nickname-report", iriPDU(7, report(NewNicknameIRI(alice, "Ålice ☕")))},
		{"iri-personal-message-report", iriPDU(8, report(NewPersonalMessageIRI(alice, "at work")))},
		{"iri-session-start-begin", iriPDU(9, begin(NewSessionStartIRI(alice, []string{bob, carol})))},
		{"iri-session-join-continue", iriPDU(10, cont(NewSessionJoinIRI(alice, carol)))},
		{"iri-session-leave-continue", iriPDU(11, cont(NewSessionLeaveIRI(alice, carol)))},
		{"iri-session-end-end", iriPDU(12, end(NewSessionEndIRI(alice, true)))},
		{"iri-message-continue", iriPDU(13, withDir(cont(NewMessageIRI(77, alice, []string{bob, carol})), FromTarget))},
		{"iri-message-to-target", iriPDU(14, withDir(cont(NewMessageIRI(78, bob, []string{alice})), ToTarget))},
		{"iri-two-payloads", iriPDU(15, cont(NewMessageIRI(79, alice, []string{bob})), cont(NewMessageIRI(80, alice, []string{bob})))},
		{"iri-kitchen-sink", iriPDU(16, report(kitchenSink()))},
		{"cc-message", ccPDU(1, NewCCPayload(FromTarget, t0, NewMessagingCC(77, "text/plain; charset=UTF-8", []byte("Hello Bob ☺\r\n"))))},
		{"cc-typing", ccPDU(2, NewCCPayload(ToTarget, t0, NewMessagingCC(78, "text/x-msmsgscontrol", []byte(""))))},
		{"cc-p2p-binary", ccPDU(3, NewCCPayload(FromTarget, t0, &MessagingCC{EventIdentifier: 79, ContentIdentifier: Ptr(uint32(1)), SequenceNumber: Ptr(uint32(2)), EndOfSequence: true, ContentType: "application/x-msnmsgrp2p", Content: p2pBinary, ContentTransferEncoding: "binary"}))},
		{"cc-large", ccPDU(4, NewCCPayload(FromTarget, t0, NewMessagingCC(80, "text/plain; charset=UTF-8", bigBody)))},
		{"tri-keep-alive", triPDU(20, &KeepAlive{})},
		{"tri-keep-alive-response", triPDU(21, &KeepAliveResponse{})},
		{"tri-option-request", triPDU(22, &OptionRequest{RequestedOptions: []Option{&PDUAcknowledgement{}}})},
		{"tri-option-response-accept", triPDU(23, &OptionResponse{AcceptedOptions: []Option{&PDUAcknowledgement{}}, DeclinedOptions: []Option{}})},
		{"tri-option-response-decline", triPDU(24, &OptionResponse{AcceptedOptions: []Option{}, DeclinedOptions: []Option{&PDUAcknowledgement{}}})},
		{"tri-option-complete", triPDU(25, &OptionComplete{})},
		{"tri-pdu-ack-request", triPDU(26, &PDUAcknowledgementRequest{})},
		{"tri-pdu-ack-response", triPDU(26, &PDUAcknowledgementResponse{})},
		{"tri-integrity-check", triPDU(27, ic)},
		{"tri-test-pdu", triPDU(28, &TestPDU{})},
		{"tri-padding", triPDU(29, PaddingPDU{0, 0, 0, 0})},
		{"tri-first-segment", triPDU(30, &FirstSegmentFlag{})},
		{"tri-last-segment", triPDU(31, &LastSegmentFlag{})},
		{"tri-cin-reset", triPDU(32, &CINReset{})},
		{"tri-operator-lea-message", triPDU(33, &OperatorLeaMessage{Priority: PriorityInformational, Message: []byte("queue at 80%")})},
		{"hdr-all-options", &PSPDU{Header: hdrAll, Payload: &KeepAlive{}}},
		{"hdr-etsi671-neid", &PSPDU{Header: hdrNEID, Payload: &KeepAlive{}}},
		{"hdr-minimal", &PSPDU{Header: hdrMin, Payload: &KeepAlive{}}},
		{"671-login-begin", iriPDU(40, must671(begin(NewLoginIRI(alice))))},
		{"671-message-continue", iriPDU(41, must671(withDir(cont(NewMessageIRI(77, alice, []string{bob, carol})), FromTarget)))},
		{"671-logout-end", iriPDU(42, must671(end(NewLogoutIRI(alice, false))))},
		{"671-presence-report", iriPDU(43, must671(report(NewPresenceIRI(alice, bob, "NLN"))))},
		{"671-nickname-long-report", iriPDU(44, must671(report(NewNicknameIRI(alice, longNick))))},
		{"671-kitchen-sink-report", iriPDU(45, must671(report(kitchenSink())))},
		{"671-iri-parameters-alt", iriPDU(46, &IRIPayload{IRIType: IRIReport, Contents: &ETSI671IRI{IRIParameters: &must671(report(NewLoginIRI(alice))).Contents.(*ETSI671IRI).IRIsContent.(*IRIContent).Params}})},
	}
}

// hi2Corpus returns standalone TS 101 671 IRIsContent records.
func hi2Corpus() []IRIsContent {
	var out []IRIsContent
	for _, n := range corpus() {
		seq, ok := n.pdu.Payload.(IRIPayloadSequence)
		if !ok {
			continue
		}
		for _, p := range seq {
			if e, ok := p.Contents.(*ETSI671IRI); ok && e.IRIsContent != nil {
				out = append(out, e.IRIsContent)
			}
		}
	}
	c1 := out[0].(*IRIContent)
	c2 := out[1].(*IRIContent)
	out = append(out, IRISequence{*c1, *c2})
	// a UTCTime time stamp and a minimal record
	utc := *c1
	utc.Record = RecordContinue
	utc.Params.TimeStamp = TimeStamp671{Time: t0.Truncate(time.Second), UTC: true}
	utc.Params.NationalParameters = nil
	utc.Params.PartyInformation = nil
	utc.Params.NationalHI2ASN1Parameters = nil
	utc.Params.IRIVersion = nil
	utc.Params.CommunicationIdentifier.NetworkIdentifier.NetworkElementIdentifier = &IPAddress{Type: IPv4, Binary: []byte{198, 51, 100, 7}}
	out = append(out, &utc)
	return out
}

// normalize fills in what encoding adds (default OIDs and system type)
// and truncates times to what GeneralizedTime carries, so a decoded record
// can be compared with the one that was encoded.
func normalize(p *PSPDU) {
	if p.Header.DomainID == nil {
		p.Header.DomainID = PSDomainID()
	}
	p.Header.TimeStamp = normTime(p.Header.TimeStamp)
	switch v := p.Payload.(type) {
	case IRIPayloadSequence:
		for i := range v {
			normIRI(&v[i])
		}
	case CCPayloadSequence:
		for i := range v {
			v[i].TimeStamp = normTime(v[i].TimeStamp)
			if m, ok := v[i].Contents.(*MessagingCC); ok && m.ObjID == nil {
				m.ObjID = MessagingCCObjID()
			}
		}
	}
}

func normIRI(p *IRIPayload) {
	p.TimeStamp = normTime(p.TimeStamp)
	switch c := p.Contents.(type) {
	case *MessagingIRI:
		if c.ObjID == nil {
			c.ObjID = MessagingIRIObjID()
		}
		if c.SystemType == 0 {
			c.SystemType = UnifiedMessaging
		}
		for i, pr := range c.Properties {
			switch v := pr.(type) {
			case Expires:
				c.Properties[i] = Expires(normTime(time.Time(v)))
			case MessageDate:
				c.Properties[i] = MessageDate(normTime(time.Time(v)))
			}
		}
	case *ETSI671IRI:
		if c.IRIParameters != nil {
			c.IRIParameters.TimeStamp.Time = normTime(c.IRIParameters.TimeStamp.Time)
		}
		normIRIsContent(c.IRIsContent)
	}
}

func normIRIsContent(c IRIsContent) {
	switch v := c.(type) {
	case *IRIContent:
		v.Params.TimeStamp.Time = normTime(v.Params.TimeStamp.Time)
	case IRISequence:
		for i := range v {
			v[i].Params.TimeStamp.Time = normTime(v[i].Params.TimeStamp.Time)
		}
	}
}

func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}
