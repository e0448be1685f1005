package etsi

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Params671 is what a TS 101 671 IRI-Parameters needs beyond a
// MessagingIRI. TS 101 671 is stricter than TS 102 232-1: the operator
// identifier has at most 5 octets and the CIN is at most 8 ASCII digits.
type Params671 struct {
	// LIID is lawfulInterceptionIdentifier, 1..25 octets.
	LIID string
	// CIN becomes communication-Identity-Number in ASCII digits; at most
	// 99999999.
	CIN uint32
	// OperatorID is operator-Identifier, 1..5 octets.
	OperatorID string
	// NetworkElementID, when set, becomes network-Element-Identifier
	// dNS-Format (1..25 octets).
	NetworkElementID string
	// CountryCode, when set, becomes national-HI2-ASN1parameters countryCode
	// (2 PrintableString characters).
	CountryCode string
}

const (
	maxNational     = 40  // national-Parameters SIZE(1..40)
	maxNationalLen  = 256 // each OCTET STRING SIZE(1..256)
	maxParties671   = 10  // partyInformation SIZE(1..10)
	nationalTrunc   = "truncated=true"
	nationalContSep = "+="
)

// To671 converts an IRIPayload carrying messagingIRI into the TS 101 671
// profile: the same IRIPayload fields with iRIContents eTSI671IRI [5] →
// iRIsContent [1] → iRIContent, the record type following iRIType (absent
// means iRI-Report-record). See IRIContentFromMessaging for the mapping.
func To671(p *IRIPayload, prm *Params671) (*IRIPayload, error) {
	m, ok := p.Contents.(*MessagingIRI)
	if !ok {
		return nil, fmt.Errorf("etsi: convert to TS 101 671: contents %T is not a MessagingIRI: %w", p.Contents, ErrNotConvertible)
	}
	ts := p.TimeStamp
	if ts.IsZero() && p.MicroSecondTimeStamp != nil {
		ts = p.MicroSecondTimeStamp.Time()
	}
	dir := p.PayloadDirection
	if dir == nil {
		dir = p.SessionDirection
	}
	c, err := IRIContentFromMessaging(m, p.IRIType, ts, dir, prm)
	if err != nil {
		return nil, err
	}
	out := *p
	out.Contents = &ETSI671IRI{IRIsContent: c}
	return &out, nil
}

// AppendIRIPayload671 decodes an IRIPayload (the BER an X2 PDU carries),
// converts it with To671 and appends the new IRIPayload to dst, ready for
// AppendPSPDU with KindIRI. The MDF uses it for destinations configured
// with the TS 101 671 profile.
func AppendIRIPayload671(dst, payload []byte, prm *Params671) ([]byte, error) {
	var p IRIPayload
	if err := UnmarshalIRIPayload(payload, &p); err != nil {
		return dst, err
	}
	q, err := To671(&p, prm)
	if err != nil {
		return dst, err
	}
	return AppendIRIPayload(dst, q)
}

// IRIContentFromMessaging builds the HI2Operations IRI record for a
// MessagingIRI:
//
//   - record: iRI-Begin/End/Continue/Report-record from typ (0 → report);
//   - domainID hi2OperationId, iRIversion lastVersion(8), LIID, and
//     communicationIdentifier {CIN in ASCII digits, operator-Identifier,
//     network-Element-Identifier dNS-Format};
//   - timeStamp localTime {GeneralizedTime in UTC, notProvided(0)};
//   - intercepted-Call-Direct from dir: fromTarget → originating-Target,
//     toTarget → terminating-Target;
//   - partyInformation: each originating/terminating party whose identity
//     has a TS 101 671 field (an e-mail address / passport or alphanumeric
//     → alphanumeric; msisdn, e164, imsi, imei, sip-uri, tel-url → the field
//     of that name), at most 10;
//   - national-Parameters, "key=value" UTF-8 strings, for everything else:
//     category=<CategoryString>, status=, trigger=, event-identifier=, one
//     per property (subject=, user-agent=, language=, greeting-type=,
//     priority=, ...; octet values as hex:...), system-identifier=,
//     box-identifier=, original-message= (hex:...), and party=<qualifier>:
//     <identity> for parties that did not fit partyInformation. A value too
//     long for 256 octets continues in parameters "key+=..."; past 40
//     parameters the last one is "truncated=true";
//   - national-HI2-ASN1parameters countryCode when prm.CountryCode is set.
func IRIContentFromMessaging(m *MessagingIRI, typ IRIType, ts time.Time, dir *PayloadDirection, prm *Params671) (*IRIContent, error) {
	const op = "etsi: convert to TS 101 671"
	if ts.IsZero() {
		return nil, fmt.Errorf("%s: no time stamp: %w", op, ErrNotConvertible)
	}
	if prm.CIN > 99999999 {
		return nil, fmt.Errorf("%s: CIN %d has more than 8 digits: %w", op, prm.CIN, ErrNotConvertible)
	}
	if n := len(prm.OperatorID); n < 1 || n > 5 {
		return nil, fmt.Errorf("%s: operator identifier of %d octets (TS 101 671 allows 1..5): %w", op, n, ErrNotConvertible)
	}
	rec := RecordReport
	switch typ {
	case IRIBegin:
		rec = RecordBegin
	case IRIEnd:
		rec = RecordEnd
	case IRIContinue:
		rec = RecordContinue
	}
	v := IRIVersionLast
	p := IRIParameters{
		DomainID:   HI2OperationID(),
		IRIVersion: &v,
		LIID:       prm.LIID,
		CommunicationIdentifier: CommunicationIdentifier671{
			CIN:               strconv.FormatUint(uint64(prm.CIN), 10),
			NetworkIdentifier: NetworkIdentifier671{OperatorIdentifier: prm.OperatorID},
		},
		TimeStamp: TimeStamp671{Time: ts.UTC(), WinterSummer: NotProvided},
	}
	if prm.NetworkElementID != "" {
		p.CommunicationIdentifier.NetworkIdentifier.NetworkElementIdentifier = &NEID{Format: NEIDDNS, Value: []byte(prm.NetworkElementID)}
	}
	if dir != nil {
		switch *dir {
		case FromTarget:
			p.InterceptedCallDirect = Ptr(DirectionOriginatingTarget)
		case ToTarget:
			p.InterceptedCallDirect = Ptr(DirectionTerminatingTarget)
		}
	}
	var nat nationalWriter
	if m.Category != nil {
		nat.add("category", CategoryString(m.Category))
	}
	nat.add("status", m.Status.String())
	nat.add("trigger", m.Trigger.String())
	if m.EventIdentifier != nil {
		nat.add("event-identifier", strconv.FormatUint(uint64(*m.EventIdentifier), 10))
	}
	for _, pr := range m.Properties {
		k, v := propertyKV(pr)
		nat.add(k, v)
	}
	if m.SystemIdentifier != nil {
		nat.add("system-identifier", "hex:"+hex.EncodeToString(m.SystemIdentifier))
	}
	if m.OriginalMessage != nil {
		nat.add("original-message", "hex:"+hex.EncodeToString(m.OriginalMessage))
	}
	if m.BoxIdentifier != nil {
		nat.add("box-identifier", "hex:"+hex.EncodeToString(m.BoxIdentifier))
	}
	for _, party := range m.Parties {
		for _, pi := range partyTo671(party) {
			if pi.ok && len(p.PartyInformation) < maxParties671 {
				p.PartyInformation = append(p.PartyInformation, pi.p)
				continue
			}
			nat.add("party", party.Qualifier.String()+":"+pi.text)
		}
	}
	p.NationalParameters = nat.params()
	if prm.CountryCode != "" {
		p.NationalHI2ASN1Parameters = &NationalHI2ASN1Parameters{CountryCode: prm.CountryCode}
	}
	return &IRIContent{Record: rec, Params: p}, nil
}

type party671 struct {
	p    PartyInformation671
	ok   bool   // representable in partyInformation
	text string // "kind:value" for a national parameter
}

func partyTo671(pi PartyInformation) []party671 {
	var q PartyQualifier671
	qok := true
	switch pi.Qualifier {
	case OriginatingParty:
		q = OriginatingParty671
	case TerminatingParty:
		q = TerminatingParty671
	default:
		qok = false
	}
	var val *PartyValidity671
	if pi.Validity != nil {
		switch *pi.Validity {
		case ValidityTrusted:
			val = Ptr(PartyValidity671(0))
		case ValidityUntrusted:
			val = Ptr(PartyValidity671(1))
		}
	}
	mk := func(id PartyIdentity671, text string, ok bool) party671 {
		id.Validity = val
		return party671{p: PartyInformation671{Qualifier: q, Identity: id}, ok: ok && qok, text: text}
	}
	switch v := pi.Identity.(type) {
	case EmailAddresses:
		out := make([]party671, 0, len(v))
		for _, a := range v {
			out = append(out, mk(PartyIdentity671{Alphanumeric: a}, "email:"+a, a != ""))
		}
		return out
	case Alphanumeric:
		return []party671{mk(PartyIdentity671{Alphanumeric: string(v)}, "alphanumeric:"+string(v), v != "")}
	case *OctetIdentity:
		var id PartyIdentity671
		ok := true
		switch v.Tag {
		case 0:
			id.MSISDN = v.Value
		case 1:
			id.E164 = v.Value
		case 6:
			id.IMSI = v.Value
		case 7:
			id.IMEI = v.Value
		case 9:
			id.TelURL = v.Value
		case 11:
			id.SIPURI = v.Value
		default:
			ok = false
		}
		return []party671{mk(id, fmt.Sprintf("identity[%d]:hex:%s", v.Tag, hex.EncodeToString(v.Value)), ok)}
	case *IPAddress:
		return []party671{mk(PartyIdentity671{}, "ip-address:"+ipText(v), false)}
	case *IPAddressAndPort:
		return []party671{mk(PartyIdentity671{}, fmt.Sprintf("ip-address-and-port:%s:%d", ipText(&v.Address), v.Port), false)}
	case *Unknown:
		return []party671{mk(PartyIdentity671{}, "unknown:hex:"+hex.EncodeToString(v.Raw), false)}
	}
	return nil
}

func ipText(a *IPAddress) string {
	if a.Text != "" {
		return a.Text
	}
	return "hex:" + hex.EncodeToString(a.Binary)
}

func propertyKV(p Property) (string, string) {
	switch v := p.(type) {
	case Pincode:
		return "pincode", "hex:" + hex.EncodeToString(v)
	case Priority:
		return "priority", v.String()
	case GreetingType:
		return "greeting-type", v.String()
	case NotificationType:
		return "notification-type", v.String()
	case Language:
		return "language", string(v)
	case MessageIdentifier:
		return "message-identifier", "hex:" + hex.EncodeToString(v)
	case Subject:
		return "subject", string(v)
	case UserAgent:
		return "user-agent", string(v)
	case Password:
		return "password", "hex:" + hex.EncodeToString(v)
	case MessageStatus:
		return "message-status", v.String()
	case RequestedReports:
		return "requested-reports", v.String()
	case Expires:
		return "expires", time.Time(v).UTC().Format("20060102150405.000Z")
	case MessageDate:
		return "message-date", time.Time(v).UTC().Format("20060102150405.000Z")
	case *Unknown:
		return "property", "hex:" + hex.EncodeToString(v.Raw)
	}
	return "property", ""
}

// nationalWriter collects "key=value" national parameters, splitting long
// values into "key+=" continuations at UTF-8 boundaries.
type nationalWriter struct {
	out       [][]byte
	truncated bool
}

func (w *nationalWriter) add(key, value string) {
	prefix := key + "="
	for first := true; first || value != ""; first = false {
		if !first {
			prefix = key + nationalContSep
		}
		room := maxNationalLen - len(prefix)
		chunk := value
		if len(chunk) > room {
			cut := room
			for cut > 0 && !utf8.RuneStart(value[cut]) {
				cut--
			}
			chunk = value[:cut]
		}
		value = value[len(chunk):]
		if len(w.out) == maxNational {
			w.truncated = true
			return
		}
		w.out = append(w.out, []byte(prefix+chunk))
	}
}

func (w *nationalWriter) params() [][]byte {
	if w.truncated {
		w.out[maxNational-1] = []byte(nationalTrunc)
	}
	if len(w.out) == 0 {
		return nil
	}
	return w.out
}

// MessagingFrom671 reverses IRIContentFromMessaging for a receiver that
// wants one view of both profiles: it rebuilds the MessagingIRI from the
// national parameters and partyInformation (an alphanumeric identity with
// an '@' becomes an e-mail address, as RCDS writes passports) and returns
// it with the record's IRI type and time stamp. Parameters it does not know
// are ignored; a record without RCDS national parameters yields a
// MessagingIRI with only the parties.
func MessagingFrom671(c *IRIContent) (*MessagingIRI, IRIType, time.Time, error) {
	const op = "etsi: convert from TS 101 671"
	if c.Record < RecordBegin || c.Record > RecordReport {
		return nil, 0, time.Time{}, fmt.Errorf("%s: record type %d: %w", op, c.Record, ErrInvalid)
	}
	m := &MessagingIRI{SystemType: UnifiedMessaging}
	for _, pi := range c.Params.PartyInformation {
		var q PartyQualifier
		switch pi.Qualifier {
		case OriginatingParty671:
			q = OriginatingParty
		case TerminatingParty671:
			q = TerminatingParty
		default:
			q = AssociatedParty
		}
		id := pi.Identity
		var ident PartyIdentity
		switch {
		case id.Alphanumeric != "" && strings.Contains(id.Alphanumeric, "@"):
			ident = EmailAddresses{id.Alphanumeric}
		case id.Alphanumeric != "":
			ident = Alphanumeric(id.Alphanumeric)
		case id.MSISDN != nil:
			ident = &OctetIdentity{Tag: 0, Value: id.MSISDN}
		case id.E164 != nil:
			ident = &OctetIdentity{Tag: 1, Value: id.E164}
		case id.IMSI != nil:
			ident = &OctetIdentity{Tag: 6, Value: id.IMSI}
		case id.IMEI != nil:
			ident = &OctetIdentity{Tag: 7, Value: id.IMEI}
		case id.TelURL != nil:
			ident = &OctetIdentity{Tag: 9, Value: id.TelURL}
		case id.SIPURI != nil:
			ident = &OctetIdentity{Tag: 11, Value: id.SIPURI}
		default:
			continue
		}
		p := PartyInformation{Qualifier: q, Identity: ident}
		if id.Validity != nil {
			switch *id.Validity {
			case 0:
				p.Validity = Ptr(ValidityTrusted)
			case 1:
				p.Validity = Ptr(ValidityUntrusted)
			}
		}
		m.Parties = append(m.Parties, p)
	}
	for _, kv := range joinNational(c.Params.NationalParameters) {
		k, v := kv[0], kv[1]
		switch k {
		case "category":
			if cat, err := ParseCategory(v); err == nil {
				m.Category = cat
			}
		case "status":
			if n, ok := valueOf(namesStatus, 0, v); ok {
				m.Status = MessagingStatus(n)
			}
		case "trigger":
			if n, ok := valueOf(namesTrigger, 0, v); ok {
				m.Trigger = MessagingTrigger(n)
			}
		case "event-identifier":
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				m.EventIdentifier = Ptr(uint32(n))
			}
		case "subject":
			m.Properties = append(m.Properties, Subject(v))
		case "user-agent":
			m.Properties = append(m.Properties, UserAgent(v))
		case "language":
			m.Properties = append(m.Properties, Language(v))
		case "greeting-type":
			if n, ok := valueOf(namesGreeting, 1, v); ok {
				m.Properties = append(m.Properties, GreetingType(n))
			}
		case "priority":
			if n, ok := valueOf(namesPriority, 1, v); ok {
				m.Properties = append(m.Properties, Priority(n))
			}
		case "notification-type":
			if n, ok := valueOf(namesNotifType, 1, v); ok {
				m.Properties = append(m.Properties, NotificationType(n))
			}
		case "message-status":
			if n, ok := valueOf(namesMsgStatus, 0, v); ok {
				m.Properties = append(m.Properties, MessageStatus(n))
			}
		case "requested-reports":
			if n, ok := valueOf(namesReports, 0, v); ok {
				m.Properties = append(m.Properties, RequestedReports(n))
			}
		case "message-identifier", "pincode", "password", "system-identifier", "original-message", "box-identifier":
			b, err := unhex(v)
			if err != nil {
				continue
			}
			switch k {
			case "message-identifier":
				m.Properties = append(m.Properties, MessageIdentifier(b))
			case "pincode":
				m.Properties = append(m.Properties, Pincode(b))
			case "password":
				m.Properties = append(m.Properties, Password(b))
			case "system-identifier":
				m.SystemIdentifier = b
			case "original-message":
				m.OriginalMessage = b
			case "box-identifier":
				m.BoxIdentifier = b
			}
		case "expires", "message-date":
			t, err := time.Parse("20060102150405.000Z", v)
			if err != nil {
				continue
			}
			if k == "expires" {
				m.Properties = append(m.Properties, Expires(t))
			} else {
				m.Properties = append(m.Properties, MessageDate(t))
			}
		case "party":
			qs, rest, _ := strings.Cut(v, ":")
			n, ok := valueOf(namesPartyQual, 0, qs)
			if !ok {
				continue
			}
			kind, val, _ := strings.Cut(rest, ":")
			switch kind {
			case "email":
				m.Parties = append(m.Parties, PartyInformation{Qualifier: PartyQualifier(n), Identity: EmailAddresses{val}})
			case "alphanumeric":
				m.Parties = append(m.Parties, PartyInformation{Qualifier: PartyQualifier(n), Identity: Alphanumeric(val)})
			}
		}
	}
	return m, IRIType(c.Record), c.Params.TimeStamp.Time, nil
}

func unhex(v string) ([]byte, error) {
	s, ok := strings.CutPrefix(v, "hex:")
	if !ok {
		return nil, fmt.Errorf("not hex: %w", ErrInvalid)
	}
	return hex.DecodeString(s)
}

// joinNational splits national parameters into key/value pairs, joining
// "key+=" continuations.
func joinNational(params [][]byte) [][2]string {
	var out [][2]string
	for _, p := range params {
		s := string(p)
		if k, v, ok := strings.Cut(s, nationalContSep); ok && !strings.Contains(k, "=") && len(out) > 0 && out[len(out)-1][0] == k {
			out[len(out)-1][1] += v
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		out = append(out, [2]string{k, v})
	}
	return out
}
