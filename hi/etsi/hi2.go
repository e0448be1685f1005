package etsi

import (
	"fmt"

	"rcds/hi/ber"
)

// MarshalIRIsContent encodes a TS 101 671 HI2Operations IRIsContent on its
// own (the form `etsi-ber-decode hi2` reads).
func MarshalIRIsContent(c IRIsContent) ([]byte, error) {
	var b ber.Builder
	encodeIRIsContent(&b, c)
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("etsi: marshal IRIsContent: %w", err)
	}
	return out, nil
}

// UnmarshalIRIsContent decodes one HI2Operations IRIsContent filling data.
func UnmarshalIRIsContent(data []byte) (IRIsContent, error) {
	e, err := ber.ParseOne(data)
	if err != nil {
		return nil, fmt.Errorf("etsi: unmarshal IRIsContent: %w", err)
	}
	c, err := decodeIRIsContent(e)
	if err != nil {
		return nil, fmt.Errorf("etsi: unmarshal IRIsContent: %w", err)
	}
	return c, nil
}

func encodeIRIsContent(b *ber.Builder, c IRIsContent) {
	switch v := c.(type) {
	case *IRIContent:
		encodeIRIContent(b, "IRIContent", v)
	case IRISequence:
		b.BeginSequence()
		for i := range v {
			encodeIRIContent(b, fmt.Sprintf("iRISequence[%d]", i), &v[i])
		}
		b.End()
	case nil:
		b.Fail(invalid("IRIsContent", "missing"))
	default:
		b.Fail(invalid("IRIsContent", "unsupported alternative %T", c))
	}
}

func encodeIRIContent(b *ber.Builder, f string, c *IRIContent) {
	if c.Record < RecordBegin || c.Record > RecordReport {
		b.Fail(invalid(f, "record type %d not defined", c.Record))
		return
	}
	b.Begin(ctx, uint32(c.Record))
	encodeIRIParametersBody(b, &c.Params)
	b.End()
}

// encodeIRIParametersBody writes the components of IRI-Parameters (the
// caller writes the implicit tag).
func encodeIRIParametersBody(b *ber.Builder, p *IRIParameters) {
	const f = "IRI-Parameters"
	if p.DomainID != nil {
		b.OID(ctx, 0, p.DomainID)
	}
	if p.IRIVersion != nil {
		encEnum(b, f+".iRIversion", 23, *p.IRIVersion, 2, 8)
	}
	if sizeOK(b, f+".lawfulInterceptionIdentifier", len(p.LIID), 1, 25) {
		b.String(ctx, 1, p.LIID)
	}
	// communicationIdentifier [2]
	ci := &p.CommunicationIdentifier
	b.Begin(ctx, 2)
	if ci.CIN != "" && sizeOK(b, f+".communicationIdentifier.communication-Identity-Number", len(ci.CIN), 1, 8) {
		b.String(ctx, 0, ci.CIN)
	}
	b.Begin(ctx, 1)
	if sizeOK(b, f+".communicationIdentifier.network-Identifier.operator-Identifier", len(ci.NetworkIdentifier.OperatorIdentifier), 1, 5) {
		b.String(ctx, 0, ci.NetworkIdentifier.OperatorIdentifier)
	}
	if ci.NetworkIdentifier.NetworkElementIdentifier != nil {
		b.Begin(ctx, 1)
		encodeNEID(b, f+".communicationIdentifier.network-Identifier.network-Element-Identifier", ci.NetworkIdentifier.NetworkElementIdentifier)
		b.End()
	}
	b.End()
	b.End()
	// timeStamp [3] TimeStamp (CHOICE, explicit)
	b.Begin(ctx, 3)
	if p.TimeStamp.UTC {
		b.UTCTime(ctx, 1, p.TimeStamp.Time)
	} else {
		b.Begin(ctx, 0)
		encTime(b, f+".timeStamp.localTime.generalizedTime", 0, p.TimeStamp.Time)
		encEnum(b, f+".timeStamp.localTime.winterSummerIndication", 1, p.TimeStamp.WinterSummer, 0, 2)
		b.End()
	}
	b.End()
	if p.InterceptedCallDirect != nil {
		encEnum(b, f+".intercepted-Call-Direct", 4, *p.InterceptedCallDirect, 0, 2)
	}
	if p.PartyInformation != nil && sizeOK(b, f+".partyInformation", len(p.PartyInformation), 1, 10) {
		b.Begin(ctx, 9)
		for i := range p.PartyInformation {
			encodeParty671(b, fmt.Sprintf("%s.partyInformation[%d]", f, i), &p.PartyInformation[i])
		}
		b.End()
	}
	if p.NationalParameters != nil && sizeOK(b, f+".national-Parameters", len(p.NationalParameters), 1, 40) {
		b.Begin(ctx, 16)
		for _, np := range p.NationalParameters {
			if sizeOK(b, f+".national-Parameters", len(np), 1, 256) {
				b.Primitive(uni, ber.TagOctetString, np)
			}
		}
		b.End()
	}
	if p.NationalHI2ASN1Parameters != nil {
		b.Begin(ctx, 255)
		encPrintable(b, f+".national-HI2-ASN1parameters.countryCode", 1, p.NationalHI2ASN1Parameters.CountryCode, 2, 2)
		b.End()
	}
}

func encodeParty671(b *ber.Builder, f string, p *PartyInformation671) {
	b.BeginSequence()
	encEnum(b, f+".party-Qualifier", 0, p.Qualifier, 0, 3)
	id := &p.Identity
	b.Begin(ctx, 1)
	opt := func(tag uint32, name string, v []byte, lo, hi int) {
		if v != nil && sizeOK(b, f+".partyIdentity."+name, len(v), lo, hi) {
			b.Primitive(ctx, tag, v)
		}
	}
	opt(1, "imei", id.IMEI, 8, 8)
	opt(2, "tei", id.TEI, 1, 15)
	opt(3, "imsi", id.IMSI, 3, 8)
	opt(6, "msISDN", id.MSISDN, 1, 9)
	opt(7, "e164-Format", id.E164, 1, 25)
	opt(8, "sip-uri", id.SIPURI, 0, 1<<31)
	opt(9, "tel-url", id.TelURL, 0, 1<<31)
	if id.Validity != nil {
		encEnum(b, f+".partyIdentity.party-Validity", 10, *id.Validity, 0, 2)
	}
	if id.Alphanumeric != "" {
		encUTF8(b, f+".partyIdentity.alphanumeric", 11, id.Alphanumeric, 0, 1<<31)
	}
	b.End()
	b.End()
}

// ---- decoding ----------------------------------------------------------------

func decodeIRIsContent(e ber.Element) (IRIsContent, error) {
	if e.Is(uni, ber.TagSequence) {
		if !e.Constructed {
			return nil, invalid("iRISequence", "primitive")
		}
		out := IRISequence{}
		it := e.Children()
		for it.Next() {
			var c IRIContent
			if err := decodeIRIContent(it.Element(), &c); err != nil {
				return nil, within(fmt.Sprintf("iRISequence[%d]", len(out)), err)
			}
			out = append(out, c)
		}
		if err := it.Err(); err != nil {
			return nil, fmt.Errorf("iRISequence: %w", err)
		}
		return out, nil
	}
	c := &IRIContent{}
	if err := decodeIRIContent(e, c); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeIRIContent(e ber.Element, c *IRIContent) error {
	if e.Class != ctx || e.Tag < 1 || e.Tag > 4 {
		return invalid("IRIContent", "unknown alternative %s", e)
	}
	c.Record = IRIRecord(e.Tag)
	names := [...]string{"", "iRI-Begin-record", "iRI-End-record", "iRI-Continue-record", "iRI-Report-record"}
	return within(names[e.Tag], decodeIRIParameters(e, &c.Params))
}

func iriParamRank(tag uint32) int {
	switch tag {
	case 0:
		return 0
	case 23:
		return 1
	}
	return int(tag) + 1
}

func decodeIRIParameters(e ber.Element, p *IRIParameters) error {
	s, err := openSeq(e, "IRI-Parameters")
	if err != nil {
		return err
	}
	var haveLIID, haveCI, haveTS bool
	for {
		el, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := s.atTag(iriParamRank(el.Tag), el.Tag); err != nil {
			return err
		}
		switch el.Tag {
		case 0:
			p.DomainID, err = decOID(el, "domainID")
		case 23:
			p.IRIVersion, err = decEnumPtr[IRIVersion](el, "iRIversion", 2, 8)
		case 1:
			p.LIID, err = decString(el, "lawfulInterceptionIdentifier", 1, 25)
			haveLIID = true
		case 2:
			err = within("communicationIdentifier", decodeCI671(el, &p.CommunicationIdentifier))
			haveCI = true
		case 3:
			err = within("timeStamp", decodeTimeStamp671(el, &p.TimeStamp))
			haveTS = true
		case 4:
			p.InterceptedCallDirect, err = decEnumPtr[CallDirection](el, "intercepted-Call-Direct", 0, 2)
		case 9:
			p.PartyInformation, err = decodeParties671(el)
		case 16:
			p.NationalParameters, err = decodeNationalParameters(el)
		case 255:
			p.NationalHI2ASN1Parameters, err = decodeNationalASN1(el)
		default:
			// other IRI-Parameters components are not modelled; check they are well-formed
			err = ber.Validate(el.Raw)
		}
		if err != nil {
			return err
		}
	}
	switch {
	case !haveLIID:
		return missing("IRI-Parameters", "lawfulInterceptionIdentifier")
	case !haveCI:
		return missing("IRI-Parameters", "communicationIdentifier")
	case !haveTS:
		return missing("IRI-Parameters", "timeStamp")
	}
	return nil
}

func decodeCI671(e ber.Element, c *CommunicationIdentifier671) error {
	s, err := openSeq(e, "CommunicationIdentifier")
	if err != nil {
		return err
	}
	var haveNI bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 0:
			c.CIN, err = decString(el, "communication-Identity-Number", 1, 8)
		case 1:
			haveNI = true
			ns, err2 := openSeq(el, "network-Identifier")
			if err2 != nil {
				return err2
			}
			var haveOp bool
			if err := ns.each(func(n ber.Element) error {
				var err error
				switch n.Tag {
				case 0:
					c.NetworkIdentifier.OperatorIdentifier, err = decString(n, "network-Identifier.operator-Identifier", 1, 5)
					haveOp = true
				case 1:
					var alt ber.Element
					if alt, err = one(n, "network-Identifier.network-Element-Identifier"); err == nil {
						c.NetworkIdentifier.NetworkElementIdentifier, err = decodeNEID(alt)
						err = within("network-Identifier.network-Element-Identifier", err)
					}
				}
				return err
			}); err != nil {
				return err
			}
			if !haveOp {
				return missing("network-Identifier", "operator-Identifier")
			}
		}
		return err
	}); err != nil {
		return err
	}
	if !haveNI {
		return missing("CommunicationIdentifier", "network-Identifier")
	}
	return nil
}

func decodeTimeStamp671(e ber.Element, t *TimeStamp671) error {
	alt, err := one(e, "TimeStamp")
	if err != nil {
		return err
	}
	if alt.Class != ctx {
		return invalid("TimeStamp", "alternative %s is not context-specific", alt)
	}
	switch alt.Tag {
	case 1:
		t.UTC = true
		if t.Time, err = alt.UTCTime(); err != nil {
			return fmt.Errorf("utcTime: %w", err)
		}
		return nil
	case 0:
		s, err := openSeq(alt, "localTime")
		if err != nil {
			return err
		}
		var have [2]bool
		if err := s.each(func(el ber.Element) error {
			var err error
			switch el.Tag {
			case 0:
				t.Time, err = decTime(el, "localTime.generalizedTime")
				have[0] = true
			case 1:
				t.WinterSummer, err = decEnum[WinterSummerIndication](el, "localTime.winterSummerIndication", 0, 2)
				have[1] = true
			}
			return err
		}); err != nil {
			return err
		}
		if !have[0] || !have[1] {
			return missing("localTime", "generalizedTime/winterSummerIndication")
		}
		return nil
	}
	return invalid("TimeStamp", "unknown alternative %s", alt)
}

func decodeParties671(e ber.Element) ([]PartyInformation671, error) {
	if !e.Constructed {
		return nil, invalid("partyInformation", "primitive SET OF")
	}
	out := []PartyInformation671{}
	it := e.Children()
	for it.Next() {
		if len(out) == 10 {
			return nil, invalid("partyInformation", "more than 10 parties")
		}
		var p PartyInformation671
		if err := decodeParty671(it.Element(), &p); err != nil {
			return nil, within(fmt.Sprintf("partyInformation[%d]", len(out)), err)
		}
		out = append(out, p)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("partyInformation: %w", err)
	}
	if len(out) == 0 {
		return nil, invalid("partyInformation", "empty (SIZE 1..10)")
	}
	return out, nil
}

func decodeParty671(e ber.Element, p *PartyInformation671) error {
	if err := e.Expect(uni, true, ber.TagSequence); err != nil {
		return invalid("PartyInformation", "%v", err)
	}
	s, err := openSeq(e, "PartyInformation")
	if err != nil {
		return err
	}
	var have [2]bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 0:
			p.Qualifier, err = decEnum[PartyQualifier671](el, "party-Qualifier", 0, 3)
			have[0] = true
		case 1:
			err = within("partyIdentity", decodePartyIdentity671(el, &p.Identity))
			have[1] = true
		default:
			err = ber.Validate(el.Raw)
		}
		return err
	}); err != nil {
		return err
	}
	if !have[0] || !have[1] {
		return missing("PartyInformation", "party-Qualifier/partyIdentity")
	}
	return nil
}

func decodePartyIdentity671(e ber.Element, id *PartyIdentity671) error {
	s, err := openSeq(e, "partyIdentity")
	if err != nil {
		return err
	}
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 1:
			id.IMEI, err = decOctets(el, "imei", 8, 8)
		case 2:
			id.TEI, err = decOctets(el, "tei", 1, 15)
		case 3:
			id.IMSI, err = decOctets(el, "imsi", 3, 8)
		case 6:
			id.MSISDN, err = decOctets(el, "msISDN", 1, 9)
		case 7:
			id.E164, err = decOctets(el, "e164-Format", 1, 25)
		case 8:
			id.SIPURI, err = decOctets(el, "sip-uri", 0, 1<<31)
		case 9:
			id.TelURL, err = decOctets(el, "tel-url", 0, 1<<31)
		case 10:
			id.Validity, err = decEnumPtr[PartyValidity671](el, "party-Validity", 0, 2)
		case 11:
			id.Alphanumeric, err = decUTF8(el, "alphanumeric", 0, 1<<31)
		default:
			// callingPartyNumber [4], calledPartyNumber [5] and later additions are not modelled
			err = ber.Validate(el.Raw)
		}
		return err
	}); err != nil {
		return err
	}
	return nil
}

func decodeNationalParameters(e ber.Element) ([][]byte, error) {
	if !e.Constructed {
		return nil, invalid("national-Parameters", "primitive SET OF")
	}
	out := [][]byte{}
	it := e.Children()
	for it.Next() {
		c := it.Element()
		if !c.Is(uni, ber.TagOctetString) {
			return nil, invalid("national-Parameters", "element %s is not an OCTET STRING", c)
		}
		if len(out) == 40 {
			return nil, invalid("national-Parameters", "more than 40 parameters")
		}
		b, err := decOctets(c, "national-Parameters", 1, 256)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("national-Parameters: %w", err)
	}
	if len(out) == 0 {
		return nil, invalid("national-Parameters", "empty (SIZE 1..40)")
	}
	return out, nil
}

func decodeNationalASN1(e ber.Element) (*NationalHI2ASN1Parameters, error) {
	s, err := openSeq(e, "national-HI2-ASN1parameters")
	if err != nil {
		return nil, err
	}
	n := &NationalHI2ASN1Parameters{}
	var have bool
	if err := s.each(func(el ber.Element) error {
		var err error
		if el.Tag == 1 {
			if n.CountryCode, err = decPrintable(el, "national-HI2-ASN1parameters.countryCode", 2, 2); err != nil {
				return err
			}
			have = true
		} else if err := ber.Validate(el.Raw); err != nil {
			return err
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if !have {
		return nil, missing("national-HI2-ASN1parameters", "countryCode")
	}
	return n, nil
}
