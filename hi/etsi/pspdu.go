package etsi

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"

	"rcds/hi/ber"
)

// domainIDTLV is li-psDomainId [0] 0.4.0.2.2.5.1.33 fully encoded.
const domainIDTLV = "\x80\x07\x04\x00\x02\x02\x05\x01\x21"

// Marshal encodes a PS-PDU. It checks every constraint of the module.
func Marshal(p *PSPDU) ([]byte, error) { return Append(nil, p) }

// Append appends the encoding of p to dst. On error dst is returned with
// nothing appended.
func Append(dst []byte, p *PSPDU) ([]byte, error) {
	n := len(dst)
	var b ber.Builder
	b.Reset(dst)
	encodePSPDU(&b, p)
	out, err := b.Bytes()
	if err != nil {
		return dst[:n], fmt.Errorf("etsi: marshal PS-PDU: %w", err)
	}
	return out, nil
}

// Unmarshal decodes exactly one PS-PDU filling data into p. Byte fields are
// copies: p does not keep data. Alternatives RCDS does not model are kept
// as *Unknown; unknown extension components of SEQUENCEs are skipped.
func Unmarshal(data []byte, p *PSPDU) error {
	e, err := ber.ParseOne(data)
	if err != nil {
		return fmt.Errorf("etsi: unmarshal PS-PDU: %w", err)
	}
	*p = PSPDU{}
	if err := decodePSPDU(e, p); err != nil {
		return fmt.Errorf("etsi: unmarshal PS-PDU: %w", err)
	}
	return nil
}

func encodePSPDU(b *ber.Builder, p *PSPDU) {
	b.BeginSequence()
	encodePSHeader(b, &p.Header)
	b.Begin(ctx, 2)
	encodePayload(b, p.Payload)
	b.End()
	b.End()
}

func encodePSHeader(b *ber.Builder, h *PSHeader) {
	b.Begin(ctx, 1)
	if h.DomainID == nil {
		b.Raw([]byte(domainIDTLV))
	} else {
		b.OID(ctx, 0, h.DomainID)
	}
	encUTF8(b, "PSHeader.lawfulInterceptionIdentifier", 1, h.LIID, 1, 25)
	if h.AuthorizationCountryCode != "" {
		encPrintable(b, "PSHeader.authorizationCountryCode", 2, h.AuthorizationCountryCode, 2, 2)
	}
	encodeCommunicationIdentifier(b, &h.CommunicationIdentifier)
	b.Uint(ctx, 4, uint64(h.SequenceNumber))
	if !h.TimeStamp.IsZero() {
		encTime(b, "PSHeader.timeStamp", 5, h.TimeStamp)
	}
	if h.InterceptionPointID != "" {
		encPrintable(b, "PSHeader.interceptionPointID", 6, h.InterceptionPointID, 1, 8)
	}
	if h.MicroSecondTimeStamp != nil {
		encodeMicro(b, "PSHeader.microSecondTimeStamp", 7, h.MicroSecondTimeStamp)
	}
	if h.TimeStampQualifier != nil {
		encEnum(b, "PSHeader.timeStampQualifier", 8, *h.TimeStampQualifier, 0, 3)
	}
	if h.ExtendedInterceptionPointID != nil && sizeOK(b, "PSHeader.extendedInterceptionPointID", len(h.ExtendedInterceptionPointID), 1, 65535) {
		b.Primitive(ctx, 9, h.ExtendedInterceptionPointID)
	}
	if h.NetworkFunctionIdentifier != nil && sizeOK(b, "PSHeader.networkFunctionIdentifier", len(h.NetworkFunctionIdentifier), 1, 65535) {
		b.Primitive(ctx, 10, h.NetworkFunctionIdentifier)
	}
	b.End()
}

func encodeCommunicationIdentifier(b *ber.Builder, c *CommunicationIdentifier) {
	const f = "PSHeader.communicationIdentifier"
	b.Begin(ctx, 3)
	n := &c.NetworkIdentifier
	b.Begin(ctx, 0)
	if sizeOK(b, f+".networkIdentifier.operatorIdentifier", len(n.OperatorIdentifier), 1, 16) {
		b.String(ctx, 0, n.OperatorIdentifier)
	}
	if n.NetworkElementIdentifier != "" && sizeOK(b, f+".networkIdentifier.networkElementIdentifier", len(n.NetworkElementIdentifier), 1, 16) {
		b.String(ctx, 1, n.NetworkElementIdentifier)
	}
	if n.ETSI671NEID != nil {
		b.Begin(ctx, 2)
		encodeNEID(b, f+".networkIdentifier.eTSI671NEID", n.ETSI671NEID)
		b.End()
	}
	b.End()
	if c.CIN != nil {
		b.Uint(ctx, 1, uint64(*c.CIN))
	}
	if c.DeliveryCountryCode != "" {
		encPrintable(b, f+".deliveryCountryCode", 2, c.DeliveryCountryCode, 2, 2)
	}
	b.End()
}

func encodeMicro(b *ber.Builder, field string, tag uint32, m *MicroSecondTimeStamp) {
	if m.MicroSeconds > 999999 {
		b.Fail(invalid(field+".microSeconds", "%d exceeds 999999", m.MicroSeconds))
		return
	}
	b.Begin(ctx, tag)
	b.Uint(ctx, 0, m.Seconds)
	b.Uint(ctx, 1, uint64(m.MicroSeconds))
	b.End()
}

func encodePayload(b *ber.Builder, p Payload) {
	switch v := p.(type) {
	case IRIPayloadSequence:
		b.Begin(ctx, 0)
		for i := range v {
			encodeIRIPayload(b, &v[i])
		}
		b.End()
	case CCPayloadSequence:
		b.Begin(ctx, 1)
		for i := range v {
			encodeCCPayload(b, &v[i])
		}
		b.End()
	case *Unknown:
		encRaw(b, "payload", v.Raw, func(t uint32) bool { return t <= 2 })
	case TRIPayload:
		b.Begin(ctx, 2)
		encodeTRI(b, v)
		b.End()
	case nil:
		b.Fail(invalid("payload", "missing"))
	default:
		b.Fail(invalid("payload", "unsupported alternative %T", p))
	}
}

func encodeTRI(b *ber.Builder, t TRIPayload) {
	const f = "payload.tRIPayload"
	switch v := t.(type) {
	case *IntegrityCheck:
		encodeIntegrityCheck(b, v)
	case *TestPDU:
		b.Null(ctx, 1)
	case PaddingPDU:
		b.Primitive(ctx, 2, v)
	case *KeepAlive:
		b.Null(ctx, 3)
	case *KeepAliveResponse:
		b.Null(ctx, 4)
	case *FirstSegmentFlag:
		b.Null(ctx, 5)
	case *LastSegmentFlag:
		b.Null(ctx, 6)
	case *CINReset:
		b.Null(ctx, 7)
	case *OperatorLeaMessage:
		b.Begin(ctx, 8)
		encEnum(b, f+".operatorLeaMessage.messagePriority", 0, v.Priority, 1, 2)
		if sizeOK(b, f+".operatorLeaMessage.message", len(v.Message), 1, 255) {
			b.Primitive(ctx, 1, v.Message)
		}
		b.End()
	case *OptionRequest:
		b.Begin(ctx, 9)
		encodeOptions(b, f+".optionRequest.requestedOptions", 0, v.RequestedOptions)
		b.End()
	case *OptionResponse:
		b.Begin(ctx, 10)
		encodeOptions(b, f+".optionResponse.acceptedOptions", 0, v.AcceptedOptions)
		encodeOptions(b, f+".optionResponse.declinedOptions", 1, v.DeclinedOptions)
		b.End()
	case *OptionComplete:
		b.Null(ctx, 11)
	case *PDUAcknowledgementRequest:
		b.Null(ctx, 12)
	case *PDUAcknowledgementResponse:
		b.Null(ctx, 13)
	case *Unknown:
		encRaw(b, f, v.Raw, func(t uint32) bool { return t <= 13 })
	default:
		b.Fail(invalid(f, "unsupported alternative %T", t))
	}
}

func encodeOptions(b *ber.Builder, field string, tag uint32, opts []Option) {
	b.Begin(ctx, tag)
	for _, o := range opts {
		switch v := o.(type) {
		case *PDUAcknowledgement:
			b.Null(ctx, 0)
		case *Unknown:
			encRaw(b, field, v.Raw, func(t uint32) bool { return t == 0 })
		default:
			b.Fail(invalid(field, "unsupported option %T", o))
		}
	}
	b.End()
}

func encodeIntegrityCheck(b *ber.Builder, c *IntegrityCheck) {
	const f = "payload.tRIPayload.integrityCheck"
	b.Begin(ctx, 0)
	b.Begin(ctx, 0)
	for _, s := range c.IncludedSequenceNumbers {
		b.Uint(uni, ber.TagInteger, uint64(s))
	}
	b.End()
	encEnum(b, f+".checkType", 1, c.CheckType, 1, 2)
	if c.DataType != nil {
		encEnum(b, f+".dataType", 2, *c.DataType, 1, 3)
	}
	b.Primitive(ctx, 3, c.CheckValue)
	if c.HashAlgorithm != nil {
		encEnum(b, f+".hashAlgorithm", 4, *c.HashAlgorithm, 1, 4)
	}
	b.End()
}

// ---- decoding ----------------------------------------------------------------

func decodePSPDU(e ber.Element, p *PSPDU) error {
	if err := e.Expect(uni, true, ber.TagSequence); err != nil {
		return invalid("PS-PDU", "%v", err)
	}
	s, err := openSeq(e, "PS-PDU")
	if err != nil {
		return err
	}
	var hdr, pay bool
	for {
		c, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch c.Tag {
		case 1:
			if err := s.at(1, "pSHeader"); err != nil {
				return err
			}
			if err := decodePSHeader(c, &p.Header); err != nil {
				return within("pSHeader", err)
			}
			hdr = true
		case 2:
			if err := s.at(2, "payload"); err != nil {
				return err
			}
			alt, err := one(c, "payload")
			if err != nil {
				return err
			}
			if p.Payload, err = decodePayload(alt); err != nil {
				return within("payload", err)
			}
			pay = true
		default:
			return invalid("PS-PDU", "unexpected component %s", c)
		}
	}
	if !hdr {
		return missing("PS-PDU", "pSHeader")
	}
	if !pay {
		return missing("PS-PDU", "payload")
	}
	return nil
}

func decodePSHeader(e ber.Element, h *PSHeader) error {
	s, err := openSeq(e, "PSHeader")
	if err != nil {
		return err
	}
	var have [5]bool
	for {
		c, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		var name string
		switch c.Tag {
		case 0:
			name = "li-psDomainId"
		case 1:
			name = "lawfulInterceptionIdentifier"
		case 2:
			name = "authorizationCountryCode"
		case 3:
			name = "communicationIdentifier"
		case 4:
			name = "sequenceNumber"
		case 5:
			name = "timeStamp"
		case 6:
			name = "interceptionPointID"
		case 7:
			name = "microSecondTimeStamp"
		case 8:
			name = "timeStampQualifier"
		case 9:
			name = "extendedInterceptionPointID"
		case 10:
			name = "networkFunctionIdentifier"
		default:
			continue // extension addition of a later version
		}
		if err := s.at(int(c.Tag), name); err != nil {
			return err
		}
		if c.Tag < 5 {
			have[c.Tag] = true
		}
		switch c.Tag {
		case 0:
			h.DomainID, err = decOID(c, name)
		case 1:
			h.LIID, err = decUTF8(c, name, 1, 25)
		case 2:
			h.AuthorizationCountryCode, err = decPrintable(c, name, 2, 2)
		case 3:
			err = within(name, decodeCommunicationIdentifier(c, &h.CommunicationIdentifier))
		case 4:
			h.SequenceNumber, err = decUint32(c, name)
		case 5:
			h.TimeStamp, err = decTime(c, name)
		case 6:
			h.InterceptionPointID, err = decPrintable(c, name, 1, 8)
		case 7:
			h.MicroSecondTimeStamp, err = decodeMicro(c, name)
		case 8:
			h.TimeStampQualifier, err = decEnumPtr[TimeStampQualifier](c, name, 0, 3)
		case 9:
			h.ExtendedInterceptionPointID, err = decOctets(c, name, 1, 65535)
		case 10:
			h.NetworkFunctionIdentifier, err = decOctets(c, name, 1, 65535)
		}
		if err != nil {
			return err
		}
	}
	for i, n := range []string{"li-psDomainId", "lawfulInterceptionIdentifier", "", "communicationIdentifier", "sequenceNumber"} {
		if n != "" && !have[i] {
			return missing("PSHeader", n)
		}
	}
	return nil
}

func decodeCommunicationIdentifier(e ber.Element, c *CommunicationIdentifier) error {
	s, err := openSeq(e, "CommunicationIdentifier")
	if err != nil {
		return err
	}
	var haveNI bool
	for {
		el, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch el.Tag {
		case 0:
			if err := s.at(0, "networkIdentifier"); err != nil {
				return err
			}
			if err := decodeNetworkIdentifier(el, &c.NetworkIdentifier); err != nil {
				return within("networkIdentifier", err)
			}
			haveNI = true
		case 1:
			if err := s.at(1, "communicationIdentityNumber"); err != nil {
				return err
			}
			v, err := decUint32(el, "communicationIdentityNumber")
			if err != nil {
				return err
			}
			c.CIN = &v
		case 2:
			if err := s.at(2, "deliveryCountryCode"); err != nil {
				return err
			}
			if c.DeliveryCountryCode, err = decPrintable(el, "deliveryCountryCode", 2, 2); err != nil {
				return err
			}
		default:
			// cINExtension [3] (3GPP CorrelationValues) and later additions are not modelled.
			if err := s.at(int(el.Tag), "extension"); err != nil {
				return err
			}
		}
	}
	if !haveNI {
		return missing("CommunicationIdentifier", "networkIdentifier")
	}
	return nil
}

func decodeNetworkIdentifier(e ber.Element, n *NetworkIdentifier) error {
	s, err := openSeq(e, "NetworkIdentifier")
	if err != nil {
		return err
	}
	var haveOp bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 0:
			if n.OperatorIdentifier, err = decString(el, "operatorIdentifier", 1, 16); err != nil {
				return err
			}
			haveOp = true
		case 1:
			if n.NetworkElementIdentifier, err = decString(el, "networkElementIdentifier", 1, 16); err != nil {
				return err
			}
		case 2:
			alt, err := one(el, "eTSI671NEID")
			if err != nil {
				return err
			}
			if n.ETSI671NEID, err = decodeNEID(alt); err != nil {
				return within("eTSI671NEID", err)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if !haveOp {
		return missing("NetworkIdentifier", "operatorIdentifier")
	}
	return nil
}

func decodeMicro(e ber.Element, field string) (*MicroSecondTimeStamp, error) {
	s, err := openSeq(e, field)
	if err != nil {
		return nil, err
	}
	var m MicroSecondTimeStamp
	var have [2]bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 0:
			if err := prim(el, field+".seconds"); err != nil {
				return err
			}
			if m.Seconds, err = el.Uint64(); err != nil {
				return fmt.Errorf("%s.seconds: %w", field, err)
			}
			have[0] = true
		case 1:
			v, err := decUint32(el, field+".microSeconds")
			if err != nil {
				return err
			}
			if v > 999999 {
				return invalid(field+".microSeconds", "%d exceeds 999999", v)
			}
			m.MicroSeconds = v
			have[1] = true
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if !have[0] || !have[1] {
		return nil, missing(field, "seconds/microSeconds")
	}
	return &m, nil
}

func decodePayload(e ber.Element) (Payload, error) {
	if e.Class != ctx {
		return nil, invalid("Payload", "alternative %s is not context-specific", e)
	}
	switch e.Tag {
	case 0:
		if !e.Constructed {
			return nil, invalid("iRIPayloadSequence", "primitive")
		}
		seq := IRIPayloadSequence{}
		it := e.Children()
		for it.Next() {
			var p IRIPayload
			if err := decodeIRIPayload(it.Element(), &p); err != nil {
				return nil, within(fmt.Sprintf("iRIPayloadSequence[%d]", len(seq)), err)
			}
			seq = append(seq, p)
		}
		if err := it.Err(); err != nil {
			return nil, fmt.Errorf("iRIPayloadSequence: %w", err)
		}
		return seq, nil
	case 1:
		if !e.Constructed {
			return nil, invalid("cCPayloadSequence", "primitive")
		}
		seq := CCPayloadSequence{}
		it := e.Children()
		for it.Next() {
			var p CCPayload
			if err := decodeCCPayload(it.Element(), &p); err != nil {
				return nil, within(fmt.Sprintf("cCPayloadSequence[%d]", len(seq)), err)
			}
			seq = append(seq, p)
		}
		if err := it.Err(); err != nil {
			return nil, fmt.Errorf("cCPayloadSequence: %w", err)
		}
		return seq, nil
	case 2:
		alt, err := one(e, "tRIPayload")
		if err != nil {
			return nil, err
		}
		t, err := decodeTRI(alt)
		return t, within("tRIPayload", err)
	default:
		if err := ber.Validate(e.Raw); err != nil {
			return nil, fmt.Errorf("Payload: %w", err)
		}
		return unknownOf(e), nil
	}
}

func decodeTRI(e ber.Element) (TRIPayload, error) {
	if e.Class != ctx {
		return nil, invalid("TRIPayload", "alternative %s is not context-specific", e)
	}
	null := func(name string, v TRIPayload) (TRIPayload, error) {
		if err := decNull(e, name); err != nil {
			return nil, err
		}
		return v, nil
	}
	switch e.Tag {
	case 0:
		return decodeIntegrityCheck(e)
	case 1:
		return null("testPDU", &TestPDU{})
	case 2:
		b, err := decOctets(e, "paddingPDU", 0, 1<<31)
		if err != nil {
			return nil, err
		}
		return PaddingPDU(b), nil
	case 3:
		return null("keep-alive", &KeepAlive{})
	case 4:
		return null("keep-aliveResponse", &KeepAliveResponse{})
	case 5:
		return null("firstSegmentFlag", &FirstSegmentFlag{})
	case 6:
		return null("lastSegmentFlag", &LastSegmentFlag{})
	case 7:
		return null("cINReset", &CINReset{})
	case 8:
		return decodeOperatorLeaMessage(e)
	case 9:
		s, err := openSeq(e, "optionRequest")
		if err != nil {
			return nil, err
		}
		r := &OptionRequest{}
		var have bool
		if err := s.each(func(el ber.Element) error {
			var err error
			if el.Tag == 0 {
				if r.RequestedOptions, err = decodeOptions(el, "requestedOptions"); err != nil {
					return err
				}
				have = true
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if !have {
			return nil, missing("optionRequest", "requestedOptions")
		}
		return r, nil
	case 10:
		s, err := openSeq(e, "optionResponse")
		if err != nil {
			return nil, err
		}
		r := &OptionResponse{}
		var have [2]bool
		if err := s.each(func(el ber.Element) error {
			var err error
			switch el.Tag {
			case 0:
				r.AcceptedOptions, err = decodeOptions(el, "acceptedOptions")
				have[0] = true
			case 1:
				r.DeclinedOptions, err = decodeOptions(el, "declinedOptions")
				have[1] = true
			}
			return err
		}); err != nil {
			return nil, err
		}
		if !have[0] || !have[1] {
			return nil, missing("optionResponse", "acceptedOptions/declinedOptions")
		}
		return r, nil
	case 11:
		return null("optionComplete", &OptionComplete{})
	case 12:
		return null("pDUAcknowledgementRequest", &PDUAcknowledgementRequest{})
	case 13:
		return null("pDUAcknowledgementResponse", &PDUAcknowledgementResponse{})
	default:
		if err := ber.Validate(e.Raw); err != nil {
			return nil, fmt.Errorf("TRIPayload: %w", err)
		}
		return unknownOf(e), nil
	}
}

func decodeOptions(e ber.Element, field string) ([]Option, error) {
	if !e.Constructed {
		return nil, invalid(field, "primitive SEQUENCE OF")
	}
	out := []Option{}
	it := e.Children()
	for it.Next() {
		c := it.Element()
		if c.Class != ctx {
			return nil, invalid(field, "option %s is not context-specific", c)
		}
		if c.Tag == 0 {
			if err := decNull(c, field+".pDUAcknowledgement"); err != nil {
				return nil, err
			}
			out = append(out, &PDUAcknowledgement{})
			continue
		}
		if err := ber.Validate(c.Raw); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		out = append(out, unknownOf(c))
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return out, nil
}

func decodeOperatorLeaMessage(e ber.Element) (TRIPayload, error) {
	s, err := openSeq(e, "operatorLeaMessage")
	if err != nil {
		return nil, err
	}
	m := &OperatorLeaMessage{}
	var have [2]bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 0:
			m.Priority, err = decEnum[OperatorLeaMessagePriority](el, "operatorLeaMessage.messagePriority", 1, 2)
			have[0] = true
		case 1:
			m.Message, err = decOctets(el, "operatorLeaMessage.message", 1, 255)
			have[1] = true
		}
		return err
	}); err != nil {
		return nil, err
	}
	if !have[0] || !have[1] {
		return nil, missing("operatorLeaMessage", "messagePriority/message")
	}
	return m, nil
}

func decodeIntegrityCheck(e ber.Element) (TRIPayload, error) {
	const f = "integrityCheck"
	s, err := openSeq(e, f)
	if err != nil {
		return nil, err
	}
	c := &IntegrityCheck{}
	var have [4]bool
	if err := s.each(func(el ber.Element) error {
		var err error
		switch el.Tag {
		case 0:
			if !el.Constructed {
				return invalid(f+".includedSequenceNumbers", "primitive SEQUENCE OF")
			}
			c.IncludedSequenceNumbers = []uint32{}
			it := el.Children()
			for it.Next() {
				n := it.Element()
				if !n.Is(uni, ber.TagInteger) {
					return invalid(f+".includedSequenceNumbers", "element %s is not an INTEGER", n)
				}
				v, err := decUint32(n, f+".includedSequenceNumbers")
				if err != nil {
					return err
				}
				c.IncludedSequenceNumbers = append(c.IncludedSequenceNumbers, v)
			}
			if err := it.Err(); err != nil {
				return fmt.Errorf("%s.includedSequenceNumbers: %w", f, err)
			}
			have[0] = true
		case 1:
			c.CheckType, err = decEnum[CheckType](el, f+".checkType", 1, 2)
			have[1] = true
		case 2:
			c.DataType, err = decEnumPtr[DataType](el, f+".dataType", 1, 3)
		case 3:
			c.CheckValue, err = decOctets(el, f+".checkValue", 0, 1<<31)
			have[3] = true
		case 4:
			c.HashAlgorithm, err = decEnumPtr[HashAlgorithm](el, f+".hashAlgorithm", 1, 4)
		}
		return err
	}); err != nil {
		return nil, err
	}
	if !have[0] || !have[1] || !have[3] {
		return nil, missing(f, "includedSequenceNumbers/checkType/checkValue")
	}
	return c, nil
}

// ---- integrity checks ---------------------------------------------------------

// NewIntegrityCheck returns an integrityCheck TRI payload hashing, with
// SHA-256, the complete encoded PS-PDUs listed in records, whose PSHeader
// sequence numbers are seqs (same order). RCDS computes the hash over the
// concatenation of the PDUs' full BER encodings in the order of
// includedSequenceNumbers (TS 102 232-1 clause 7.2.3 leaves the byte
// sequence to the implementation; this is the one our LEMF verifies).
func NewIntegrityCheck(dt DataType, seqs []uint32, records [][]byte) (*IntegrityCheck, error) {
	if len(seqs) != len(records) {
		return nil, fmt.Errorf("etsi: integrity check: %d sequence numbers for %d records: %w", len(seqs), len(records), ErrInvalid)
	}
	h := sha256.New()
	for _, r := range records {
		h.Write(r)
	}
	alg := HashSHA256
	return &IntegrityCheck{
		IncludedSequenceNumbers: append([]uint32(nil), seqs...),
		CheckType:               CheckHash,
		DataType:                &dt,
		CheckValue:              h.Sum(nil),
		HashAlgorithm:           &alg,
	}, nil
}

// Verify checks a hash integrity check against the complete encoded PDUs
// whose sequence numbers it lists (records in the same order). Absent
// hashAlgorithm means SHA-1 is not assumed: RCDS requires it to be present.
func (c *IntegrityCheck) Verify(records [][]byte) error {
	if c.CheckType != CheckHash {
		return fmt.Errorf("etsi: verify integrity check: check type %d is not hash: %w", c.CheckType, ErrInvalid)
	}
	if len(records) != len(c.IncludedSequenceNumbers) {
		return fmt.Errorf("etsi: verify integrity check: %d records for %d sequence numbers: %w", len(records), len(c.IncludedSequenceNumbers), ErrInvalid)
	}
	var h hash.Hash
	switch {
	case c.HashAlgorithm == nil:
		return fmt.Errorf("etsi: verify integrity check: no hashAlgorithm: %w", ErrInvalid)
	case *c.HashAlgorithm == HashSHA256:
		h = sha256.New()
	case *c.HashAlgorithm == HashSHA384:
		h = sha512.New384()
	case *c.HashAlgorithm == HashSHA512:
		h = sha512.New()
	default:
		return fmt.Errorf("etsi: verify integrity check: hash algorithm %d not supported: %w", *c.HashAlgorithm, ErrInvalid)
	}
	for _, r := range records {
		h.Write(r)
	}
	if subtle.ConstantTimeCompare(h.Sum(nil), c.CheckValue) != 1 {
		return fmt.Errorf("etsi: verify integrity check over %d records: %w", len(records), ErrIntegrity)
	}
	return nil
}
