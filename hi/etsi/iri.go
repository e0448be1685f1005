package etsi

import (
	"fmt"
	"time"

	"rcds/hi/ber"
)

// MarshalIRIPayload encodes an IRIPayload as a universal SEQUENCE: the
// element an X2 PDU carries and AppendPSPDU splices into iRIPayloadSequence.
func MarshalIRIPayload(p *IRIPayload) ([]byte, error) { return AppendIRIPayload(nil, p) }

// AppendIRIPayload appends the encoding of p to dst.
func AppendIRIPayload(dst []byte, p *IRIPayload) ([]byte, error) {
	n := len(dst)
	var b ber.Builder
	b.Reset(dst)
	encodeIRIPayload(&b, p)
	out, err := b.Bytes()
	if err != nil {
		return dst[:n], fmt.Errorf("etsi: marshal IRIPayload: %w", err)
	}
	return out, nil
}

// UnmarshalIRIPayload decodes one IRIPayload filling data.
func UnmarshalIRIPayload(data []byte, p *IRIPayload) error {
	e, err := ber.ParseOne(data)
	if err != nil {
		return fmt.Errorf("etsi: unmarshal IRIPayload: %w", err)
	}
	*p = IRIPayload{}
	if err := decodeIRIPayload(e, p); err != nil {
		return fmt.Errorf("etsi: unmarshal IRIPayload: %w", err)
	}
	return nil
}

// MarshalCCPayload encodes a CCPayload as a universal SEQUENCE (what an X3
// PDU carries).
func MarshalCCPayload(p *CCPayload) ([]byte, error) { return AppendCCPayload(nil, p) }

// AppendCCPayload appends the encoding of p to dst.
func AppendCCPayload(dst []byte, p *CCPayload) ([]byte, error) {
	n := len(dst)
	var b ber.Builder
	b.Reset(dst)
	encodeCCPayload(&b, p)
	out, err := b.Bytes()
	if err != nil {
		return dst[:n], fmt.Errorf("etsi: marshal CCPayload: %w", err)
	}
	return out, nil
}

// UnmarshalCCPayload decodes one CCPayload filling data.
func UnmarshalCCPayload(data []byte, p *CCPayload) error {
	e, err := ber.ParseOne(data)
	if err != nil {
		return fmt.Errorf("etsi: unmarshal CCPayload: %w", err)
	}
	*p = CCPayload{}
	if err := decodeCCPayload(e, p); err != nil {
		return fmt.Errorf("etsi: unmarshal CCPayload: %w", err)
	}
	return nil
}

func encodeIRIPayload(b *ber.Builder, p *IRIPayload) {
	const f = "IRIPayload"
	b.BeginSequence()
	if p.IRIType != 0 {
		encEnum(b, f+".iRIType", 0, p.IRIType, 1, 4)
	}
	if !p.TimeStamp.IsZero() {
		encTime(b, f+".timeStamp", 1, p.TimeStamp)
	}
	b.Begin(ctx, 2)
	switch v := p.Contents.(type) {
	case *MessagingIRI:
		encodeMessagingIRI(b, v)
	case *ETSI671IRI:
		b.Begin(ctx, 5)
		switch {
		case v.IRIsContent != nil && v.IRIParameters == nil:
			b.Begin(ctx, 1)
			encodeIRIsContent(b, v.IRIsContent)
			b.End()
		case v.IRIsContent == nil && v.IRIParameters != nil:
			b.Begin(ctx, 0)
			encodeIRIParametersBody(b, v.IRIParameters)
			b.End()
		default:
			b.Fail(invalid(f+".iRIContents.eTSI671IRI", "exactly one of iRI-Parameters and iRIsContent must be set"))
		}
		b.End()
	case *Unknown:
		encRaw(b, f+".iRIContents", v.Raw, func(t uint32) bool { return t == 5 || t == 14 })
	case nil:
		b.Fail(invalid(f+".iRIContents", "missing"))
	default:
		b.Fail(invalid(f+".iRIContents", "unsupported alternative %T", p.Contents))
	}
	b.End()
	if p.MicroSecondTimeStamp != nil {
		encodeMicro(b, f+".microSecondTimeStamp", 3, p.MicroSecondTimeStamp)
	}
	if p.TimeStampQualifier != nil {
		encEnum(b, f+".timeStampQualifier", 4, *p.TimeStampQualifier, 0, 3)
	}
	if p.SessionDirection != nil {
		encEnum(b, f+".sessionDirection", 5, *p.SessionDirection, 0, 4)
	}
	if p.PayloadDirection != nil {
		encEnum(b, f+".payloadDirection", 6, *p.PayloadDirection, 0, 4)
	}
	b.End()
}

func encodeCCPayload(b *ber.Builder, p *CCPayload) {
	const f = "CCPayload"
	b.BeginSequence()
	if p.PayloadDirection != nil {
		encEnum(b, f+".payloadDirection", 0, *p.PayloadDirection, 0, 4)
	}
	if !p.TimeStamp.IsZero() {
		encTime(b, f+".timeStamp", 1, p.TimeStamp)
	}
	b.Begin(ctx, 2)
	switch v := p.Contents.(type) {
	case *MessagingCC:
		encodeMessagingCC(b, v)
	case *Unknown:
		encRaw(b, f+".cCContents", v.Raw, func(t uint32) bool { return t == 14 })
	case nil:
		b.Fail(invalid(f+".cCContents", "missing"))
	default:
		b.Fail(invalid(f+".cCContents", "unsupported alternative %T", p.Contents))
	}
	b.End()
	if p.MicroSecondTimeStamp != nil {
		encodeMicro(b, f+".microSecondTimeStamp", 3, p.MicroSecondTimeStamp)
	}
	if p.TimeStampQualifier != nil {
		encEnum(b, f+".timeStampQualifier", 4, *p.TimeStampQualifier, 0, 3)
	}
	b.End()
}

func encodeMessagingIRI(b *ber.Builder, m *MessagingIRI) {
	const f = "MessagingIRI"
	b.Begin(ctx, 14)
	if m.ObjID == nil {
		b.RelativeOID(ctx, 0, MessagingIRIObjID())
	} else {
		b.RelativeOID(ctx, 0, m.ObjID)
	}
	st := m.SystemType
	if st == 0 {
		st = UnifiedMessaging
	}
	encEnum(b, f+".system-type", 1, st, 1, 1)
	if m.SystemIdentifier != nil {
		b.Primitive(ctx, 2, m.SystemIdentifier)
	}
	if m.Category != nil {
		b.Begin(ctx, 3)
		switch v := m.Category.(type) {
		case MessageEvent:
			encEnum(b, f+".category.message", 0, v, 1, 7)
		case BoxEvent:
			encEnum(b, f+".category.message-box", 1, v, 0, 31)
		case NotificationEvent:
			encEnum(b, f+".category.message-notification", 2, v, 1, 8)
		case CallEvent:
			encEnum(b, f+".category.call", 3, v, 1, 1)
		case *Unknown:
			encRaw(b, f+".category", v.Raw, func(t uint32) bool { return t <= 3 })
		default:
			b.Fail(invalid(f+".category", "unsupported alternative %T", m.Category))
		}
		b.End()
	}
	encEnum(b, f+".status", 4, m.Status, 0, 6)
	if m.Parties != nil {
		b.Begin(ctx, 5)
		for i := range m.Parties {
			encodeParty(b, fmt.Sprintf("%s.party-information[%d]", f, i), &m.Parties[i])
		}
		b.End()
	}
	encEnum(b, f+".trigger", 6, m.Trigger, 0, 4)
	if m.Properties != nil {
		b.Begin(ctx, 7)
		for i, p := range m.Properties {
			encodeProperty(b, fmt.Sprintf("%s.properties[%d]", f, i), p)
		}
		b.End()
	}
	if m.EventIdentifier != nil {
		b.Uint(ctx, 8, uint64(*m.EventIdentifier))
	}
	if m.OriginalMessage != nil {
		b.Primitive(ctx, 9, m.OriginalMessage)
	}
	if m.BoxIdentifier != nil {
		b.Primitive(ctx, 10, m.BoxIdentifier)
	}
	b.End()
}

func encodeParty(b *ber.Builder, f string, p *PartyInformation) {
	b.BeginSequence()
	encEnum(b, f+".party-qualifier", 0, p.Qualifier, 0, 3)
	b.Begin(ctx, 1)
	switch v := p.Identity.(type) {
	case EmailAddresses:
		if sizeOK(b, f+".party-identity.email-address", len(v), 0, 1023) {
			b.Begin(ctx, 2)
			for _, a := range v {
				encUTF8Universal(b, f+".party-identity.email-address", a, 0, 255)
			}
			b.End()
		}
	case Alphanumeric:
		encUTF8(b, f+".party-identity.alphanumeric", 4, string(v), 0, 1<<31)
	case *IPAddress:
		encodeIPAddress(b, f+".party-identity.ip-address", 3, v)
	case *IPAddressAndPort:
		b.Begin(ctx, 5)
		encodeIPAddress(b, f+".party-identity.ip-address-and-port.ip-address", 0, &v.Address)
		b.Int(ctx, 1, v.Port)
		b.End()
	case *OctetIdentity:
		lo, hi, ok := octetIdentitySize(v.Tag)
		if !ok {
			b.Fail(invalid(f+".party-identity", "tag %d is not an OCTET STRING alternative", v.Tag))
			break
		}
		if sizeOK(b, f+".party-identity", len(v.Value), lo, hi) {
			b.Primitive(ctx, v.Tag, v.Value)
		}
	case *Unknown:
		encRaw(b, f+".party-identity", v.Raw, func(t uint32) bool { return t <= 13 })
	case nil:
		b.Fail(invalid(f+".party-identity", "missing"))
	default:
		b.Fail(invalid(f+".party-identity", "unsupported alternative %T", p.Identity))
	}
	b.End()
	if p.Validity != nil {
		encEnum(b, f+".party-validity", 2, *p.Validity, 0, 2)
	}
	if p.CopyQualifier != nil {
		encEnum(b, f+".copy-qualifier", 3, *p.CopyQualifier, 0, 3)
	}
	b.End()
}

func encUTF8Universal(b *ber.Builder, field, s string, lo, hi int) {
	if !validUTF8(s) {
		b.Fail(invalid(field, "not valid UTF-8"))
		return
	}
	if sizeOK(b, field, len(s), lo, hi) {
		b.String(uni, ber.TagUTF8String, s)
	}
}

// octetIdentitySize returns the SIZE constraint of an OCTET STRING
// alternative of Messaging-Party-Identity.
func octetIdentitySize(tag uint32) (lo, hi int, ok bool) {
	switch tag {
	case 0:
		return 1, 9, true
	case 1:
		return 1, 25, true
	case 6:
		return 3, 8, true
	case 7:
		return 8, 8, true
	case 8, 9, 10, 11, 12, 13:
		return 0, 1 << 31, true
	}
	return 0, 0, false
}

func encodeIPAddress(b *ber.Builder, f string, tag uint32, a *IPAddress) {
	b.Begin(ctx, tag)
	encEnum(b, f+".iP-type", 1, a.Type, 0, 1)
	b.Begin(ctx, 2)
	switch {
	case a.Binary != nil && a.Text == "":
		if sizeOK(b, f+".iP-value.iPBinaryAddress", len(a.Binary), 4, 16) {
			b.Primitive(ctx, 1, a.Binary)
		}
	case a.Binary == nil && a.Text != "":
		if !ber.IsIA5String(a.Text) {
			b.Fail(invalid(f+".iP-value.iPTextAddress", "not IA5String"))
		} else if sizeOK(b, f+".iP-value.iPTextAddress", len(a.Text), 7, 45) {
			b.String(ctx, 2, a.Text)
		}
	default:
		b.Fail(invalid(f+".iP-value", "exactly one of Binary and Text must be set"))
	}
	b.End()
	if a.Assignment != nil {
		encEnum(b, f+".iP-assignment", 3, *a.Assignment, 1, 3)
	}
	if a.PrefixLength != nil {
		if *a.PrefixLength < 1 || *a.PrefixLength > 128 {
			b.Fail(invalid(f+".iPv6PrefixLength", "%d not in 1..128", *a.PrefixLength))
		} else {
			b.Uint(ctx, 4, uint64(*a.PrefixLength))
		}
	}
	if a.SubnetMask != nil && sizeOK(b, f+".iPv4SubnetMask", len(a.SubnetMask), 4, 4) {
		b.Primitive(ctx, 5, a.SubnetMask)
	}
	b.End()
}

func encodeProperty(b *ber.Builder, f string, p Property) {
	switch v := p.(type) {
	case Pincode:
		if sizeOK(b, f+".pincode", len(v), 1, 32) {
			b.Primitive(ctx, 0, v)
		}
	case Priority:
		encEnum(b, f+".priority", 1, v, 1, 4)
	case GreetingType:
		encEnum(b, f+".greeting-type", 2, v, 1, 5)
	case NotificationType:
		encEnum(b, f+".notification-type", 3, v, 1, 12)
	case Language:
		b.String(ctx, 4, string(v))
	case MessageIdentifier:
		b.Primitive(ctx, 5, v)
	case Subject:
		encUTF8(b, f+".subject", 6, string(v), 0, 1<<31)
	case UserAgent:
		encUTF8(b, f+".user-agent", 7, string(v), 0, 1<<31)
	case Password:
		b.Primitive(ctx, 8, v)
	case MessageStatus:
		encEnum(b, f+".message-status", 9, v, 0, 10)
	case RequestedReports:
		encEnum(b, f+".requested-reports", 10, v, 0, 3)
	case Expires:
		encTime(b, f+".expires", 11, time.Time(v))
	case MessageDate:
		encTime(b, f+".message-date", 12, time.Time(v))
	case *Unknown:
		encRaw(b, f, v.Raw, func(t uint32) bool { return t <= 12 })
	default:
		b.Fail(invalid(f, "unsupported property %T", p))
	}
}

func encodeMessagingCC(b *ber.Builder, m *MessagingCC) {
	b.Begin(ctx, 14)
	if m.ObjID == nil {
		b.RelativeOID(ctx, 0, MessagingCCObjID())
	} else {
		b.RelativeOID(ctx, 0, m.ObjID)
	}
	b.Uint(ctx, 1, uint64(m.EventIdentifier))
	if m.ContentIdentifier != nil {
		b.Uint(ctx, 2, uint64(*m.ContentIdentifier))
	}
	if m.SequenceNumber != nil {
		b.Uint(ctx, 3, uint64(*m.SequenceNumber))
	}
	if m.EndOfSequence {
		b.Bool(ctx, 4, true)
	}
	b.String(ctx, 5, m.ContentType)
	b.Primitive(ctx, 6, m.Content)
	if m.ContentTransferEncoding != "" {
		b.String(ctx, 7, m.ContentTransferEncoding)
	}
	b.End()
}

func encodeNEID(b *ber.Builder, f string, n NetworkElementID) {
	switch v := n.(type) {
	case *NEID:
		if v.Format < NEIDE164 || v.Format > NEIDDNS {
			b.Fail(invalid(f, "format %d is not an OCTET STRING alternative", v.Format))
			return
		}
		if sizeOK(b, f, len(v.Value), 1, 25) {
			b.Primitive(ctx, uint32(v.Format), v.Value)
		}
	case *IPAddress:
		encodeIPAddress(b, f+".iP-Address", 5, v)
	case *Unknown:
		encRaw(b, f, v.Raw, func(t uint32) bool { return t >= 1 && t <= 5 })
	default:
		b.Fail(invalid(f, "unsupported alternative %T", n))
	}
}

// ---- decoding ----------------------------------------------------------------

func decodeIRIPayload(e ber.Element, p *IRIPayload) error {
	if err := e.Expect(uni, true, ber.TagSequence); err != nil {
		return invalid("IRIPayload", "%v", err)
	}
	s, err := openSeq(e, "IRIPayload")
	if err != nil {
		return err
	}
	var haveContents bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 0:
			p.IRIType, err = decEnum[IRIType](el, "iRIType", 1, 4)
		case 1:
			p.TimeStamp, err = decTime(el, "timeStamp")
		case 2:
			var alt ber.Element
			if alt, err = one(el, "iRIContents"); err == nil {
				p.Contents, err = decodeIRIContents(alt)
				err = within("iRIContents", err)
			}
			haveContents = true
		case 3:
			p.MicroSecondTimeStamp, err = decodeMicro(el, "microSecondTimeStamp")
		case 4:
			p.TimeStampQualifier, err = decEnumPtr[TimeStampQualifier](el, "timeStampQualifier", 0, 3)
		case 5:
			p.SessionDirection, err = decEnumPtr[PayloadDirection](el, "sessionDirection", 0, 4)
		case 6:
			p.PayloadDirection, err = decEnumPtr[PayloadDirection](el, "payloadDirection", 0, 4)
		}
		return err
	}); err != nil {
		return err
	}
	if !haveContents {
		return missing("IRIPayload", "iRIContents")
	}
	return nil
}

func decodeIRIContents(e ber.Element) (IRIContents, error) {
	if e.Class != ctx {
		return nil, invalid("IRIContents", "alternative %s is not context-specific", e)
	}
	switch e.Tag {
	case 14:
		m := &MessagingIRI{}
		return m, within("messagingIRI", decodeMessagingIRI(e, m))
	case 5:
		alt, err := one(e, "eTSI671IRI")
		if err != nil {
			return nil, err
		}
		if alt.Class != ctx {
			return nil, invalid("eTSI671IRI", "alternative %s is not context-specific", alt)
		}
		switch alt.Tag {
		case 0:
			var p IRIParameters
			if err := decodeIRIParameters(alt, &p); err != nil {
				return nil, within("eTSI671IRI.iRI-Parameters", err)
			}
			return &ETSI671IRI{IRIParameters: &p}, nil
		case 1:
			inner, err := one(alt, "eTSI671IRI.iRIsContent")
			if err != nil {
				return nil, err
			}
			c, err := decodeIRIsContent(inner)
			if err != nil {
				return nil, within("eTSI671IRI.iRIsContent", err)
			}
			return &ETSI671IRI{IRIsContent: c}, nil
		default:
			return nil, invalid("eTSI671IRI", "unknown alternative %s", alt)
		}
	default:
		if err := ber.Validate(e.Raw); err != nil {
			return nil, fmt.Errorf("IRIContents: %w", err)
		}
		return unknownOf(e), nil
	}
}

func decodeCCPayload(e ber.Element, p *CCPayload) error {
	if err := e.Expect(uni, true, ber.TagSequence); err != nil {
		return invalid("CCPayload", "%v", err)
	}
	s, err := openSeq(e, "CCPayload")
	if err != nil {
		return err
	}
	var haveContents bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 0:
			p.PayloadDirection, err = decEnumPtr[PayloadDirection](el, "payloadDirection", 0, 4)
		case 1:
			p.TimeStamp, err = decTime(el, "timeStamp")
		case 2:
			var alt ber.Element
			if alt, err = one(el, "cCContents"); err == nil {
				if alt.Class == ctx && alt.Tag == 14 {
					m := &MessagingCC{}
					err = within("cCContents.messagingCC", decodeMessagingCC(alt, m))
					p.Contents = m
				} else if alt.Class != ctx {
					err = invalid("cCContents", "alternative %s is not context-specific", alt)
				} else if err = ber.Validate(alt.Raw); err == nil {
					p.Contents = unknownOf(alt)
				}
			}
			haveContents = true
		case 3:
			p.MicroSecondTimeStamp, err = decodeMicro(el, "microSecondTimeStamp")
		case 4:
			p.TimeStampQualifier, err = decEnumPtr[TimeStampQualifier](el, "timeStampQualifier", 0, 3)
		}
		return err
	}); err != nil {
		return err
	}
	if !haveContents {
		return missing("CCPayload", "cCContents")
	}
	return nil
}

func decodeMessagingIRI(e ber.Element, m *MessagingIRI) error {
	s, err := openSeq(e, "MessagingIRI")
	if err != nil {
		return err
	}
	var have [7]bool
	if err := s.each(func(el ber.Element) error {
		var err error
		if el.Tag < 7 {
			have[el.Tag] = true
		}
		switch el.Tag {
		case 0:
			m.ObjID, err = decRelOID(el, "messaging-iri-obj-id")
		case 1:
			m.SystemType, err = decEnum[MessagingSystemType](el, "system-type", 1, 1)
		case 2:
			m.SystemIdentifier, err = decOctets(el, "system-identifier", 0, 1<<31)
		case 3:
			var alt ber.Element
			if alt, err = one(el, "category"); err == nil {
				m.Category, err = decodeCategory(alt)
			}
		case 4:
			m.Status, err = decEnum[MessagingStatus](el, "status", 0, 6)
		case 5:
			m.Parties, err = decodeParties(el)
		case 6:
			m.Trigger, err = decEnum[MessagingTrigger](el, "trigger", 0, 4)
		case 7:
			m.Properties, err = decodeProperties(el)
		case 8:
			var v uint32
			v, err = decUint32(el, "event-identifier")
			m.EventIdentifier = &v
		case 9:
			m.OriginalMessage, err = decOctets(el, "original-message", 0, 1<<31)
		case 10:
			m.BoxIdentifier, err = decOctets(el, "box-identifier", 0, 1<<31)
		}
		return err
	}); err != nil {
		return err
	}
	for i, n := range []string{"messaging-iri-obj-id", "system-type", "", "", "status", "", "trigger"} {
		if n != "" && !have[i] {
			return missing("MessagingIRI", n)
		}
	}
	return nil
}

func decodeCategory(e ber.Element) (EventCategory, error) {
	if e.Class != ctx {
		return nil, invalid("category", "alternative %s is not context-specific", e)
	}
	switch e.Tag {
	case 0:
		return decEnum[MessageEvent](e, "category.message", 1, 7)
	case 1:
		return decEnum[BoxEvent](e, "category.message-box", 0, 31)
	case 2:
		return decEnum[NotificationEvent](e, "category.message-notification", 1, 8)
	case 3:
		return decEnum[CallEvent](e, "category.call", 1, 1)
	}
	if err := ber.Validate(e.Raw); err != nil {
		return nil, fmt.Errorf("category: %w", err)
	}
	return unknownOf(e), nil
}

func decodeParties(e ber.Element) ([]PartyInformation, error) {
	if !e.Constructed {
		return nil, invalid("party-information", "primitive SET OF")
	}
	out := []PartyInformation{}
	it := e.Children()
	for it.Next() {
		var p PartyInformation
		if err := decodeParty(it.Element(), &p); err != nil {
			return nil, within(fmt.Sprintf("party-information[%d]", len(out)), err)
		}
		out = append(out, p)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("party-information: %w", err)
	}
	return out, nil
}

func decodeParty(e ber.Element, p *PartyInformation) error {
	if err := e.Expect(uni, true, ber.TagSequence); err != nil {
		return invalid("Messaging-Party-Information", "%v", err)
	}
	s, err := openSeq(e, "Messaging-Party-Information")
	if err != nil {
		return err
	}
	var have [2]bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 0:
			p.Qualifier, err = decEnum[PartyQualifier](el, "party-qualifier", 0, 3)
			have[0] = true
		case 1:
			var alt ber.Element
			if alt, err = one(el, "party-identity"); err == nil {
				p.Identity, err = decodePartyIdentity(alt)
				err = within("party-identity", err)
			}
			have[1] = true
		case 2:
			p.Validity, err = decEnumPtr[PartyValidity](el, "party-validity", 0, 2)
		case 3:
			p.CopyQualifier, err = decEnumPtr[CopyQualifier](el, "copy-qualifier", 0, 3)
		}
		return err
	}); err != nil {
		return err
	}
	if !have[0] || !have[1] {
		return missing("Messaging-Party-Information", "party-qualifier/party-identity")
	}
	return nil
}

func decodePartyIdentity(e ber.Element) (PartyIdentity, error) {
	if e.Class != ctx {
		return nil, invalid("Messaging-Party-Identity", "alternative %s is not context-specific", e)
	}
	switch e.Tag {
	case 2:
		if !e.Constructed {
			return nil, invalid("email-address", "primitive SEQUENCE OF")
		}
		out := EmailAddresses{}
		it := e.Children()
		for it.Next() {
			c := it.Element()
			if !c.Is(uni, ber.TagUTF8String) {
				return nil, invalid("email-address", "element %s is not a UTF8String", c)
			}
			s, err := decUTF8(c, "email-address", 0, 255)
			if err != nil {
				return nil, err
			}
			if len(out) == 1023 {
				return nil, invalid("email-address", "more than 1023 addresses")
			}
			out = append(out, s)
		}
		if err := it.Err(); err != nil {
			return nil, fmt.Errorf("email-address: %w", err)
		}
		return out, nil
	case 3:
		a := &IPAddress{}
		return a, within("ip-address", decodeIPAddress(e, a))
	case 4:
		s, err := decUTF8(e, "alphanumeric", 0, 1<<31)
		return Alphanumeric(s), err
	case 5:
		s, err := openSeq(e, "ip-address-and-port")
		if err != nil {
			return nil, err
		}
		v := &IPAddressAndPort{}
		var have [2]bool
		if err := s.each(func(el ber.Element) error {
			var err error
			switch el.Tag {
			case 0:
				err = within("ip-address-and-port.ip-address", decodeIPAddress(el, &v.Address))
				have[0] = true
			case 1:
				if err = prim(el, "port-number"); err == nil {
					v.Port, err = el.Int64()
				}
				have[1] = true
			}
			return err
		}); err != nil {
			return nil, err
		}
		if !have[0] || !have[1] {
			return nil, missing("ip-address-and-port", "ip-address/port-number")
		}
		return v, nil
	}
	if lo, hi, ok := octetIdentitySize(e.Tag); ok {
		b, err := decOctets(e, fmt.Sprintf("party-identity[%d]", e.Tag), lo, hi)
		if err != nil {
			return nil, err
		}
		return &OctetIdentity{Tag: e.Tag, Value: b}, nil
	}
	if err := ber.Validate(e.Raw); err != nil {
		return nil, fmt.Errorf("Messaging-Party-Identity: %w", err)
	}
	return unknownOf(e), nil
}

func decodeIPAddress(e ber.Element, a *IPAddress) error {
	s, err := openSeq(e, "IPAddress")
	if err != nil {
		return err
	}
	var have [2]bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 1:
			a.Type, err = decEnum[IPType](el, "iP-type", 0, 1)
			have[0] = true
		case 2:
			var alt ber.Element
			if alt, err = one(el, "iP-value"); err != nil {
				return err
			}
			switch {
			case alt.Class == ctx && alt.Tag == 1:
				a.Binary, err = decOctets(alt, "iPBinaryAddress", 4, 16)
			case alt.Class == ctx && alt.Tag == 2:
				a.Text, err = decString(alt, "iPTextAddress", 7, 45)
				if err == nil && !ber.IsIA5String(a.Text) {
					err = invalid("iPTextAddress", "not IA5String")
				}
			default:
				err = invalid("iP-value", "unknown alternative %s", alt)
			}
			have[1] = true
		case 3:
			a.Assignment, err = decEnumPtr[IPAssignment](el, "iP-assignment", 1, 3)
		case 4:
			var v int
			if v, err = decEnum[int](el, "iPv6PrefixLength", 1, 128); err == nil {
				a.PrefixLength = Ptr(uint8(v))
			}
		case 5:
			a.SubnetMask, err = decOctets(el, "iPv4SubnetMask", 4, 4)
		}
		return err
	}); err != nil {
		return err
	}
	if !have[0] || !have[1] {
		return missing("IPAddress", "iP-type/iP-value")
	}
	return nil
}

func decodeProperties(e ber.Element) ([]Property, error) {
	if !e.Constructed {
		return nil, invalid("properties", "primitive SEQUENCE OF")
	}
	out := []Property{}
	it := e.Children()
	for it.Next() {
		c := it.Element()
		f := fmt.Sprintf("properties[%d]", len(out))
		if c.Class != ctx {
			return nil, invalid(f, "alternative %s is not context-specific", c)
		}
		var p Property
		var err error
		switch c.Tag {
		case 0:
			var b []byte
			b, err = decOctets(c, f+".pincode", 1, 32)
			p = Pincode(b)
		case 1:
			p, err = decEnum[Priority](c, f+".priority", 1, 4)
		case 2:
			p, err = decEnum[GreetingType](c, f+".greeting-type", 1, 5)
		case 3:
			p, err = decEnum[NotificationType](c, f+".notification-type", 1, 12)
		case 4:
			var s string
			s, err = decString(c, f+".language", 0, 1<<31)
			p = Language(s)
		case 5:
			var b []byte
			b, err = decOctets(c, f+".message-identifier", 0, 1<<31)
			p = MessageIdentifier(b)
		case 6:
			var s string
			s, err = decUTF8(c, f+".subject", 0, 1<<31)
			p = Subject(s)
		case 7:
			var s string
			s, err = decUTF8(c, f+".user-agent", 0, 1<<31)
			p = UserAgent(s)
		case 8:
			var b []byte
			b, err = decOctets(c, f+".password", 0, 1<<31)
			p = Password(b)
		case 9:
			p, err = decEnum[MessageStatus](c, f+".message-status", 0, 10)
		case 10:
			p, err = decEnum[RequestedReports](c, f+".requested-reports", 0, 3)
		case 11:
			var t time.Time
			t, err = decTime(c, f+".expires")
			p = Expires(t)
		case 12:
			var t time.Time
			t, err = decTime(c, f+".message-date")
			p = MessageDate(t)
		default:
			if err = ber.Validate(c.Raw); err == nil {
				p = unknownOf(c)
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	return out, nil
}

func decodeMessagingCC(e ber.Element, m *MessagingCC) error {
	s, err := openSeq(e, "MessagingCC")
	if err != nil {
		return err
	}
	var have [7]bool
	if err := s.each(func(el ber.Element) error {
		var err error
		if el.Tag < 7 {
			have[el.Tag] = true
		}
		switch el.Tag {
		case 0:
			m.ObjID, err = decRelOID(el, "messaging-cc-obj-id")
		case 1:
			m.EventIdentifier, err = decUint32(el, "event-identifier")
		case 2:
			var v uint32
			v, err = decUint32(el, "content-identifier")
			m.ContentIdentifier = &v
		case 3:
			var v uint32
			v, err = decUint32(el, "sequence-number")
			m.SequenceNumber = &v
		case 4:
			if err = prim(el, "end-of-sequence"); err == nil {
				m.EndOfSequence, err = el.Bool()
			}
		case 5:
			m.ContentType, err = decString(el, "content-type", 0, 1<<31)
		case 6:
			m.Content, err = decOctets(el, "content", 0, 1<<31)
		case 7:
			m.ContentTransferEncoding, err = decString(el, "content-transfer-encoding", 0, 1<<31)
		}
		return err
	}); err != nil {
		return err
	}
	for i, n := range []string{"messaging-cc-obj-id", "event-identifier", "", "", "", "content-type", "content"} {
		if n != "" && !have[i] {
			return missing("MessagingCC", n)
		}
	}
	return nil
}

func decodeNEID(e ber.Element) (NetworkElementID, error) {
	if e.Class != ctx {
		return nil, invalid("Network-Element-Identifier", "alternative %s is not context-specific", e)
	}
	switch e.Tag {
	case 1, 2, 3, 4:
		b, err := decOctets(e, "Network-Element-Identifier", 1, 25)
		if err != nil {
			return nil, err
		}
		return &NEID{Format: NEIDFormat(e.Tag), Value: b}, nil
	case 5:
		a := &IPAddress{}
		return a, within("iP-Address", decodeIPAddress(e, a))
	}
	if err := ber.Validate(e.Raw); err != nil {
		return nil, fmt.Errorf("Network-Element-Identifier: %w", err)
	}
	return unknownOf(e), nil
}
