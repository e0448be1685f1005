package etsi

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"rcds/hi/ber"
	"rcds/internal/testtools"
)

// TestIndependentDecoder encodes every corpus record back to back into one
// file, as on an HI2/HI3 connection, runs the Erlang decoder compiled from
// the ETSI modules on it once, and compares every decoded value with what
// was encoded (expectation built from the Go values, in the decoder's JSON
// conventions). It does the same for standalone TS 101 671 IRIsContent
// records with `etsi-ber-decode hi2`.
func TestIndependentDecoder(t *testing.T) {
	tool := testtools.Tool(t, "etsi-ber-decode", "erl")
	t.Run("pspdu", func(t *testing.T) {
		var stream []byte
		var want []any
		var names []string
		for _, n := range corpus() {
			b, err := Marshal(n.pdu)
			if err != nil {
				t.Fatalf("%s: %v", n.name, err)
			}
			stream = append(stream, b...)
			normalize(n.pdu)
			want = append(want, jPSPDU(n.pdu))
			names = append(names, n.name)
		}
		got := runDecoder(t, tool, "pspdu", stream)
		compareRecords(t, names, want, got)
	})
	t.Run("spliced indefinite payload", func(t *testing.T) {
		// a POI may send an indefinite-length IRIPayload; AppendPSPDU splices it
		n := corpus()[0]
		def, err := MarshalIRIPayload(&n.pdu.Payload.(IRIPayloadSequence)[0])
		if err != nil {
			t.Fatal(err)
		}
		e, err := ber.ParseOne(def)
		if err != nil {
			t.Fatal(err)
		}
		indef := append(append([]byte{0x30, 0x80}, e.Content...), 0, 0)
		rec, err := AppendPSPDU(nil, &n.pdu.Header, KindIRI, indef, def)
		if err != nil {
			t.Fatal(err)
		}
		normalize(n.pdu)
		seq := n.pdu.Payload.(IRIPayloadSequence)
		n.pdu.Payload = IRIPayloadSequence{seq[0], seq[0]}
		got := runDecoder(t, tool, "pspdu", rec)
		compareRecords(t, []string{n.name + " spliced"}, []any{jPSPDU(n.pdu)}, got)
	})
	t.Run("hi2", func(t *testing.T) {
		var stream []byte
		var want []any
		var names []string
		for i, c := range hi2Corpus() {
			b, err := MarshalIRIsContent(c)
			if err != nil {
				t.Fatal(err)
			}
			stream = append(stream, b...)
			normIRIsContent(c)
			want = append(want, jIRIsContent(c))
			names = append(names, fmt.Sprintf("hi2-%d", i))
		}
		got := runDecoder(t, tool, "hi2", stream)
		compareRecords(t, names, want, got)
	})
}

// runDecoder runs the tool on data and returns the decoded values; it fails
// the test on a non-zero exit or any warning.
func runDecoder(t *testing.T, tool, mode string, data []byte) []any {
	t.Helper()
	f := filepath.Join(t.TempDir(), mode+".ber")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, mode, f)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("etsi-ber-decode %s: %v\n%s", mode, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Fatalf("etsi-ber-decode %s warned:\n%s", mode, stderr.String())
	}
	var out []any
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	last := ""
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			last = line
			continue
		}
		var rec struct {
			Value any `json:"value"`
		}
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&rec); err != nil {
			t.Fatalf("tool output: %v", err)
		}
		out = append(out, rec.Value)
	}
	if want := fmt.Sprintf("%d records decoded", len(out)); last != want {
		t.Fatalf("tool summary %q, want %q", last, want)
	}
	return out
}

func compareRecords(t *testing.T, names []string, want, got []any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("decoder returned %d records, want %d", len(got), len(want))
	}
	for i := range want {
		w, _ := json.Marshal(want[i])
		g, _ := json.Marshal(got[i])
		if !bytes.Equal(w, g) {
			t.Errorf("%s: decoded value differs\n got %s\nwant %s", names[i], g, w)
		}
	}
}

// ---- expectations in the decoder's JSON conventions -----------------------

type obj = map[string]any

// erlPrintable mirrors io_lib:printable_unicode_list for one code point.
func erlPrintable(r rune) bool {
	switch {
	case r >= 32 && r < 127, r >= 0xA0 && r < 0xD800, r > 0xDFFF && r < 0xFFFE, r > 0xFFFF && r < 0x110000:
		return true
	}
	return strings.ContainsRune("\n\r\t\v\b\f\x1b", r)
}

// jb renders octets as the decoder does: a string when they are non-empty
// valid UTF-8 of printable characters, otherwise {"hex": ...}.
func jb(b []byte) any {
	if len(b) > 0 && utf8.Valid(b) {
		ok := true
		for _, r := range string(b) {
			if !erlPrintable(r) {
				ok = false
				break
			}
		}
		if ok {
			return string(b)
		}
	}
	return obj{"hex": hex.EncodeToString(b)}
}

func js(s string) any { return jb([]byte(s)) }

// jints renders a SEQUENCE OF INTEGER: Erlang prints a list of printable
// code points as a string.
func jints(v []uint32) any {
	if len(v) > 0 {
		ok := true
		for _, x := range v {
			if !erlPrintable(rune(x)) {
				ok = false
			}
		}
		if ok {
			rs := make([]rune, len(v))
			for i, x := range v {
				rs[i] = rune(x)
			}
			return string(rs)
		}
	}
	out := []any{}
	for _, x := range v {
		out = append(out, x)
	}
	return out
}

func jt(t time.Time) string { return t.UTC().Format("20060102150405.000Z") }

func jPSPDU(p *PSPDU) any {
	h := &p.Header
	ci := &h.CommunicationIdentifier
	ni := obj{"operatorIdentifier": js(ci.NetworkIdentifier.OperatorIdentifier)}
	if ci.NetworkIdentifier.NetworkElementIdentifier != "" {
		ni["networkElementIdentifier"] = js(ci.NetworkIdentifier.NetworkElementIdentifier)
	}
	if ci.NetworkIdentifier.ETSI671NEID != nil {
		ni["eTSI671NEID"] = jNEID(ci.NetworkIdentifier.ETSI671NEID)
	}
	cio := obj{"networkIdentifier": ni}
	if ci.CIN != nil {
		cio["communicationIdentityNumber"] = *ci.CIN
	}
	if ci.DeliveryCountryCode != "" {
		cio["deliveryCountryCode"] = ci.DeliveryCountryCode
	}
	ho := obj{
		"li-psDomainId":                h.DomainID.String(),
		"lawfulInterceptionIdentifier": js(h.LIID),
		"communicationIdentifier":      cio,
		"sequenceNumber":               h.SequenceNumber,
	}
	if h.AuthorizationCountryCode != "" {
		ho["authorizationCountryCode"] = h.AuthorizationCountryCode
	}
	if !h.TimeStamp.IsZero() {
		ho["timeStamp"] = jt(h.TimeStamp)
	}
	if h.InterceptionPointID != "" {
		ho["interceptionPointID"] = h.InterceptionPointID
	}
	if h.MicroSecondTimeStamp != nil {
		ho["microSecondTimeStamp"] = jMicro(h.MicroSecondTimeStamp)
	}
	if h.TimeStampQualifier != nil {
		ho["timeStampQualifier"] = h.TimeStampQualifier.String()
	}
	if h.ExtendedInterceptionPointID != nil {
		ho["extendedInterceptionPointID"] = jb(h.ExtendedInterceptionPointID)
	}
	if h.NetworkFunctionIdentifier != nil {
		ho["networkFunctionIdentifier"] = jb(h.NetworkFunctionIdentifier)
	}
	return obj{"pSHeader": ho, "payload": jPayload(p.Payload)}
}

func jMicro(m *MicroSecondTimeStamp) any {
	return obj{"seconds": m.Seconds, "microSeconds": m.MicroSeconds}
}

func jPayload(p Payload) any {
	switch v := p.(type) {
	case IRIPayloadSequence:
		l := []any{}
		for i := range v {
			l = append(l, jIRIPayload(&v[i]))
		}
		return obj{"iRIPayloadSequence": l}
	case CCPayloadSequence:
		l := []any{}
		for i := range v {
			l = append(l, jCCPayload(&v[i]))
		}
		return obj{"cCPayloadSequence": l}
	case TRIPayload:
		return obj{"tRIPayload": jTRI(v)}
	}
	panic(fmt.Sprintf("jPayload %T", p))
}

func jOptions(os []Option) any {
	l := []any{}
	for range os {
		l = append(l, obj{"pDUAcknowledgement": nil})
	}
	return l
}

func jTRI(t TRIPayload) any {
	switch v := t.(type) {
	case *KeepAlive:
		return obj{"keep-alive": nil}
	case *KeepAliveResponse:
		return obj{"keep-aliveResponse": nil}
	case *TestPDU:
		return obj{"testPDU": nil}
	case PaddingPDU:
		return obj{"paddingPDU": jb(v)}
	case *FirstSegmentFlag:
		return obj{"firstSegmentFlag": nil}
	case *LastSegmentFlag:
		return obj{"lastSegmentFlag": nil}
	case *CINReset:
		return obj{"cINReset": nil}
	case *OptionComplete:
		return obj{"optionComplete": nil}
	case *PDUAcknowledgementRequest:
		return obj{"pDUAcknowledgementRequest": nil}
	case *PDUAcknowledgementResponse:
		return obj{"pDUAcknowledgementResponse": nil}
	case *OptionRequest:
		return obj{"optionRequest": obj{"requestedOptions": jOptions(v.RequestedOptions)}}
	case *OptionResponse:
		return obj{"optionResponse": obj{"acceptedOptions": jOptions(v.AcceptedOptions), "declinedOptions": jOptions(v.DeclinedOptions)}}
	case *OperatorLeaMessage:
		names := map[OperatorLeaMessagePriority]string{PriorityError: "error", PriorityInformational: "informational"}
		return obj{"operatorLeaMessage": obj{"messagePriority": names[v.Priority], "message": jb(v.Message)}}
	case *IntegrityCheck:
		o := obj{"includedSequenceNumbers": jints(v.IncludedSequenceNumbers), "checkType": map[CheckType]string{CheckHash: "hash", CheckSignature: "signature"}[v.CheckType], "checkValue": jb(v.CheckValue)}
		if v.DataType != nil {
			o["dataType"] = map[DataType]string{DataIRI: "iRI", DataCC: "cC", DataILHI: "iLHI"}[*v.DataType]
		}
		if v.HashAlgorithm != nil {
			o["hashAlgorithm"] = map[HashAlgorithm]string{HashSHA1: "sHA-1", HashSHA256: "sHA-256", HashSHA384: "sHA-384", HashSHA512: "sHA-512"}[*v.HashAlgorithm]
		}
		return obj{"integrityCheck": o}
	}
	panic(fmt.Sprintf("jTRI %T", t))
}

func jIRIPayload(p *IRIPayload) any {
	o := obj{}
	if p.IRIType != 0 {
		o["iRIType"] = p.IRIType.String()
	}
	if !p.TimeStamp.IsZero() {
		o["timeStamp"] = jt(p.TimeStamp)
	}
	switch c := p.Contents.(type) {
	case *MessagingIRI:
		o["iRIContents"] = obj{"messagingIRI": jMessagingIRI(c)}
	case *ETSI671IRI:
		if c.IRIsContent != nil {
			o["iRIContents"] = obj{"eTSI671IRI": obj{"iRIsContent": jIRIsContent(c.IRIsContent)}}
		} else {
			o["iRIContents"] = obj{"eTSI671IRI": obj{"iRI-Parameters": jIRIParameters(c.IRIParameters)}}
		}
	default:
		panic(fmt.Sprintf("jIRIPayload %T", c))
	}
	if p.MicroSecondTimeStamp != nil {
		o["microSecondTimeStamp"] = jMicro(p.MicroSecondTimeStamp)
	}
	if p.TimeStampQualifier != nil {
		o["timeStampQualifier"] = p.TimeStampQualifier.String()
	}
	if p.SessionDirection != nil {
		o["sessionDirection"] = p.SessionDirection.String()
	}
	if p.PayloadDirection != nil {
		o["payloadDirection"] = p.PayloadDirection.String()
	}
	return o
}

func jCCPayload(p *CCPayload) any {
	o := obj{}
	if p.PayloadDirection != nil {
		o["payloadDirection"] = p.PayloadDirection.String()
	}
	if !p.TimeStamp.IsZero() {
		o["timeStamp"] = jt(p.TimeStamp)
	}
	m := p.Contents.(*MessagingCC)
	mc := obj{
		"messaging-cc-obj-id": m.ObjID.String(),
		"event-identifier":    m.EventIdentifier,
		"end-of-sequence":     m.EndOfSequence,
		"content-type":        js(m.ContentType),
		"content":             jb(m.Content),
	}
	if m.ContentIdentifier != nil {
		mc["content-identifier"] = *m.ContentIdentifier
	}
	if m.SequenceNumber != nil {
		mc["sequence-number"] = *m.SequenceNumber
	}
	if m.ContentTransferEncoding != "" {
		mc["content-transfer-encoding"] = js(m.ContentTransferEncoding)
	}
	o["cCContents"] = obj{"messagingCC": mc}
	if p.MicroSecondTimeStamp != nil {
		o["microSecondTimeStamp"] = jMicro(p.MicroSecondTimeStamp)
	}
	if p.TimeStampQualifier != nil {
		o["timeStampQualifier"] = p.TimeStampQualifier.String()
	}
	return o
}

func jMessagingIRI(m *MessagingIRI) any {
	o := obj{
		"messaging-iri-obj-id": m.ObjID.String(),
		"system-type":          "unified-messaging",
		"status":               m.Status.String(),
		"trigger":              m.Trigger.String(),
	}
	if m.SystemIdentifier != nil {
		o["system-identifier"] = jb(m.SystemIdentifier)
	}
	if m.Category != nil {
		alt, val, _ := strings.Cut(CategoryString(m.Category), ":")
		o["category"] = obj{alt: val}
	}
	if m.Parties != nil {
		l := []any{}
		for _, p := range m.Parties {
			l = append(l, jParty(p))
		}
		o["party-information"] = l
	}
	if m.Properties != nil {
		l := []any{}
		for _, p := range m.Properties {
			l = append(l, jProperty(p))
		}
		o["properties"] = l
	}
	if m.EventIdentifier != nil {
		o["event-identifier"] = *m.EventIdentifier
	}
	if m.OriginalMessage != nil {
		o["original-message"] = jb(m.OriginalMessage)
	}
	if m.BoxIdentifier != nil {
		o["box-identifier"] = jb(m.BoxIdentifier)
	}
	return o
}

func jIP(a *IPAddress) any {
	o := obj{"iP-type": map[IPType]string{IPv4: "iPV4", IPv6: "iPV6"}[a.Type]}
	if a.Binary != nil {
		o["iP-value"] = obj{"iPBinaryAddress": jb(a.Binary)}
	} else {
		o["iP-value"] = obj{"iPTextAddress": js(a.Text)}
	}
	if a.Assignment != nil {
		o["iP-assignment"] = map[IPAssignment]string{AssignStatic: "static", AssignDynamic: "dynamic", AssignNotKnown: "notKnown"}[*a.Assignment]
	}
	if a.PrefixLength != nil {
		o["iPv6PrefixLength"] = *a.PrefixLength
	}
	if a.SubnetMask != nil {
		o["iPv4SubnetMask"] = jb(a.SubnetMask)
	}
	return o
}

func jParty(p PartyInformation) any {
	o := obj{"party-qualifier": p.Qualifier.String()}
	switch v := p.Identity.(type) {
	case EmailAddresses:
		l := []any{}
		for _, a := range v {
			l = append(l, js(a))
		}
		o["party-identity"] = obj{"email-address": l}
	case Alphanumeric:
		o["party-identity"] = obj{"alphanumeric": js(string(v))}
	case *IPAddress:
		o["party-identity"] = obj{"ip-address": jIP(v)}
	case *IPAddressAndPort:
		o["party-identity"] = obj{"ip-address-and-port": obj{"ip-address": jIP(&v.Address), "port-number": v.Port}}
	case *OctetIdentity:
		names := map[uint32]string{0: "msisdn", 1: "e164-format", 6: "imsi", 7: "imei", 8: "fax-url", 9: "tel-url", 10: "modem-url", 11: "sip-uri", 12: "sips-uri", 13: "nai"}
		o["party-identity"] = obj{names[v.Tag]: jb(v.Value)}
	default:
		panic(fmt.Sprintf("jParty %T", v))
	}
	if p.Validity != nil {
		o["party-validity"] = p.Validity.String()
	}
	if p.CopyQualifier != nil {
		o["copy-qualifier"] = p.CopyQualifier.String()
	}
	return o
}

func jProperty(p Property) any {
	switch v := p.(type) {
	case Pincode:
		return obj{"pincode": jb(v)}
	case Priority:
		return obj{"priority": v.String()}
	case GreetingType:
		return obj{"greeting-type": v.String()}
	case NotificationType:
		return obj{"notification-type": v.String()}
	case Language:
		return obj{"language": js(string(v))}
	case MessageIdentifier:
		return obj{"message-identifier": jb(v)}
	case Subject:
		return obj{"subject": js(string(v))}
	case UserAgent:
		return obj{"user-agent": js(string(v))}
	case Password:
		return obj{"password": jb(v)}
	case MessageStatus:
		return obj{"message-status": v.String()}
	case RequestedReports:
		return obj{"requested-reports": v.String()}
	case Expires:
		return obj{"expires": jt(time.Time(v))}
	case MessageDate:
		return obj{"message-date": jt(time.Time(v))}
	}
	panic(fmt.Sprintf("jProperty %T", p))
}

func jNEID(n NetworkElementID) any {
	switch v := n.(type) {
	case *NEID:
		names := map[NEIDFormat]string{NEIDE164: "e164-Format", NEIDX25: "x25-Format", NEIDIP: "iP-Format", NEIDDNS: "dNS-Format"}
		return obj{names[v.Format]: jb(v.Value)}
	case *IPAddress:
		return obj{"iP-Address": jIP(v)}
	}
	panic(fmt.Sprintf("jNEID %T", n))
}

func jIRIsContent(c IRIsContent) any {
	switch v := c.(type) {
	case *IRIContent:
		return obj{"iRIContent": jIRIContent(v)}
	case IRISequence:
		l := []any{}
		for i := range v {
			l = append(l, jIRIContent(&v[i]))
		}
		return obj{"iRISequence": l}
	}
	panic(fmt.Sprintf("jIRIsContent %T", c))
}

func jIRIContent(c *IRIContent) any {
	return obj{c.Record.String(): jIRIParameters(&c.Params)}
}

func jIRIParameters(p *IRIParameters) any {
	ni := obj{"operator-Identifier": js(p.CommunicationIdentifier.NetworkIdentifier.OperatorIdentifier)}
	if n := p.CommunicationIdentifier.NetworkIdentifier.NetworkElementIdentifier; n != nil {
		ni["network-Element-Identifier"] = jNEID(n)
	}
	ci := obj{"network-Identifier": ni}
	if p.CommunicationIdentifier.CIN != "" {
		ci["communication-Identity-Number"] = js(p.CommunicationIdentifier.CIN)
	}
	o := obj{
		"lawfulInterceptionIdentifier": js(p.LIID),
		"communicationIdentifier":      ci,
	}
	if p.TimeStamp.UTC {
		o["timeStamp"] = obj{"utcTime": p.TimeStamp.Time.UTC().Format("060102150405Z")}
	} else {
		o["timeStamp"] = obj{"localTime": obj{"generalizedTime": jt(p.TimeStamp.Time), "winterSummerIndication": map[WinterSummerIndication]string{NotProvided: "notProvided", WinterTime: "winterTime", SummerTime: "summerTime"}[p.TimeStamp.WinterSummer]}}
	}
	if p.DomainID != nil {
		o["domainID"] = p.DomainID.String()
	}
	if p.IRIVersion != nil {
		o["iRIversion"] = map[IRIVersion]string{2: "version2", 3: "version3", 4: "version4", 5: "version5", 6: "version6", 7: "version7", 8: "lastVersion"}[*p.IRIVersion]
	}
	if p.InterceptedCallDirect != nil {
		o["intercepted-Call-Direct"] = p.InterceptedCallDirect.String()
	}
	if p.PartyInformation != nil {
		l := []any{}
		for _, pi := range p.PartyInformation {
			id := obj{}
			add := func(k string, v []byte) {
				if v != nil {
					id[k] = jb(v)
				}
			}
			add("imei", pi.Identity.IMEI)
			add("tei", pi.Identity.TEI)
			add("imsi", pi.Identity.IMSI)
			add("msISDN", pi.Identity.MSISDN)
			add("e164-Format", pi.Identity.E164)
			add("sip-uri", pi.Identity.SIPURI)
			add("tel-url", pi.Identity.TelURL)
			if pi.Identity.Validity != nil {
				id["party-Validity"] = []string{"trusted", "untrusted", "operator-added"}[*pi.Identity.Validity]
			}
			if pi.Identity.Alphanumeric != "" {
				id["alphanumeric"] = js(pi.Identity.Alphanumeric)
			}
			l = append(l, obj{"party-Qualifier": pi.Qualifier.String(), "partyIdentity": id})
		}
		o["partyInformation"] = l
	}
	if p.NationalParameters != nil {
		l := []any{}
		for _, np := range p.NationalParameters {
			l = append(l, jb(np))
		}
		o["national-Parameters"] = l
	}
	if p.NationalHI2ASN1Parameters != nil {
		o["national-HI2-ASN1parameters"] = obj{"countryCode": p.NationalHI2ASN1Parameters.CountryCode}
	}
	return o
}
