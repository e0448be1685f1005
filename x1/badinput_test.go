package x1

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// msgDoc wraps message bodies into a request document with the given
// header values.
func msgDoc(xsiType, body string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<X1Request xmlns="%s" xmlns:c="%s" xmlns:xsi="%s">
 <x1RequestMessage xsi:type="%s">
  <admfIdentifier>admf</admfIdentifier><neIdentifier>ne</neIdentifier>
  <messageTimestamp>2026-03-01T12:00:00.000000Z</messageTimestamp><version>v1.22.1</version>
  <x1TransactionId>7a000000-0000-4000-8000-000000000001</x1TransactionId>
  %s
 </x1RequestMessage>
</X1Request>`, NamespaceX1, NamespaceCommon, NamespaceXSI, xsiType, body)
}

const taskBody = `<taskDetails><xId>%s</xId><targetIdentifiers><targetIdentifier>%s</targetIdentifier></targetIdentifiers>
  <deliveryType>%s</deliveryType><listOfDIDs>%s</listOfDIDs>%s</taskDetails>`

func activate(xid, target, delivery, dids, rest string) string {
	return msgDoc("ActivateTaskRequest", fmt.Sprintf(taskBody, xid, target, delivery, dids, rest))
}

const (
	xidNew  = "b2000000-0000-4000-8000-000000000001"
	email   = `<emailAddress>carol@example.com</emailAddress>`
	didList = `<dId>` + didBoth + `</dId>`
)

// TestBadInput sends malformed, hostile and semantically wrong documents:
// each gets the right ETSI answer, the registry (memory and disk) is
// unchanged, and the attempt is in the audit log.
func TestBadInput(t *testing.T) {
	tle := []outcome{{Type: "TopLevelError"}}
	er := func(c ErrorCode) []outcome { return []outcome{{"ErrorResponse", c}} }
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	cases := []struct {
		name   string
		doc    string
		want   []outcome
		status int
		desc   string // substring of the errorDescription
	}{
		{"empty body", "", tle, 200, ""},
		{"not XML", "hello", tle, 200, ""},
		{"malformed XML", `<X1Request xmlns="` + NamespaceX1 + `"><x1RequestMessage>`, tle, 200, ""},
		{"mismatched tags", msgDoc("PingRequest", "<a></b>"), tle, 200, ""},
		{"invalid UTF-8", msgDoc("PingRequest", "") + "\xff", tle, 200, ""},
		{"NUL byte", "<X1Request\x00/>", tle, 200, ""},
		{"UTF-16 declaration", `<?xml version="1.0" encoding="UTF-16"?><X1Request xmlns="` + NamespaceX1 + `"/>`, tle, 200, ""},
		{"wrong root", strings.ReplaceAll(msgDoc("PingRequest", ""), "X1Request", "X1Response"), tle, 200, ""},
		{"wrong namespace", strings.Replace(msgDoc("PingRequest", ""), NamespaceX1, "http://uri.etsi.org/03221/X1/2017/11", 1), tle, 200, ""},
		{"no namespace", strings.Replace(msgDoc("PingRequest", ""), `xmlns="`+NamespaceX1+`"`, "", 1), tle, 200, ""},
		{"unknown xsi:type", msgDoc("FooRequest", ""), tle, 200, ""},
		{"response type as request", msgDoc("PingResponse", ""), tle, 200, ""},
		{"xsi:type undeclared prefix", msgDoc("zz:PingRequest", ""), tle, 200, ""},
		{"xsi:type in another namespace", msgDoc("c:PingRequest", ""), tle, 200, ""},
		{"no xsi:type", strings.Replace(msgDoc("PingRequest", ""), ` xsi:type="PingRequest"`, "", 1), tle, 200, ""},
		{"no messages", `<X1Request xmlns="` + NamespaceX1 + `"/>`, tle, 200, ""},
		{"text in container", strings.Replace(msgDoc("PingRequest", ""), "<x1RequestMessage", "junk<x1RequestMessage", 1), tle, 200, ""},
		{"two roots", msgDoc("PingRequest", "") + "<X1Request/>", tle, 200, ""},
		{"nested too deep", msgDoc("PingRequest", deep), tle, 200, ""},
		{"too many elements", msgDoc("PingRequest", strings.Repeat("<a/>", maxElements)), tle, 200, ""},
		{"oversized body", msgDoc("PingRequest", strings.Repeat(" ", MaxDocumentSize)), tle, http.StatusRequestEntityTooLarge, ""},
		{"transaction id not a UUID", strings.Replace(msgDoc("PingRequest", ""), "7a000000-0000-4000-8000-000000000001", "42", 1), tle, 200, ""},
		{"transaction id upper case", strings.Replace(msgDoc("PingRequest", ""), "7a000000", "7A000000", 1), tle, 200, ""},
		{"no transaction id", strings.Replace(msgDoc("PingRequest", ""), "<x1TransactionId>7a000000-0000-4000-8000-000000000001</x1TransactionId>", "", 1), tle, 200, ""},
		{"bad version", strings.Replace(msgDoc("PingRequest", ""), "v1.22.1", "v2.0.0", 1), er(CodeUnsupportedVersion), 200, "v2.0.0"},
		{"version with spaces", strings.Replace(msgDoc("PingRequest", ""), "v1.22.1", " v1.22.1", 1), er(CodeUnsupportedVersion), 200, ""},
		{"header out of order", strings.Replace(msgDoc("PingRequest", ""), "<admfIdentifier>admf</admfIdentifier><neIdentifier>ne</neIdentifier>", "<neIdentifier>ne</neIdentifier><admfIdentifier>admf</admfIdentifier>", 1), er(CodeSyntax), 200, ""},
		{"bad timestamp", strings.Replace(msgDoc("PingRequest", ""), "12:00:00.000000Z", "12:00:00Z", 1), er(CodeSyntax), 200, "messageTimestamp"},
		{"unsupported request type", msgDoc("GetObjectRequest", "<objectId>"+xidNew+"</objectId>"), er(CodeUnsupportedRequest), 200, "GetObject"},
		{"extra element in ping", msgDoc("PingRequest", "<xId>"+xidNew+"</xId>"), er(CodeSyntax), 200, ""},
		{"XID not a UUID", activate("not-a-uuid", email, "X2andX3", didList, ""), er(CodeSyntax), 200, "not-a-uuid"},
		{"XID upper case", activate(strings.ToUpper(xidNew), email, "X2andX3", didList, ""), er(CodeSyntax), 200, ""},
		{"DID not a UUID", activate(xidNew, email, "X2andX3", "<dId>pre-shared-did</dId>", ""), er(CodeSyntax), 200, "pre-shared-did"},
		{"missing deliveryType", strings.Replace(activate(xidNew, email, "X2andX3", didList, ""), "<deliveryType>X2andX3</deliveryType>", "", 1), er(CodeSyntax), 200, "deliveryType"},
		{"element order", strings.Replace(strings.Replace(activate(xidNew, email, "X2andX3", didList, ""), "<deliveryType>X2andX3</deliveryType>", "", 1), "<taskDetails>", "<taskDetails><deliveryType>X2andX3</deliveryType>", 1), er(CodeSyntax), 200, ""},
		{"unknown element", activate(xidNew, email, "X2andX3", didList, "<colour>red</colour>"), er(CodeSyntax), 200, "colour"},
		{"bad deliveryType", activate(xidNew, email, "X4", didList, ""), er(CodeSyntax), 200, "X4"},
		{"bad email", activate(xidNew, `<emailAddress>not an address</emailAddress>`, "X2andX3", didList, ""), er(CodeSyntax), 200, ""},
		{"foreign attribute", strings.Replace(activate(xidNew, email, "X2andX3", didList, ""), "<xId>", `<xId evil="1">`, 1), er(CodeSyntax), 200, "evil"},
		{"two target alternatives", activate(xidNew, email+`<ipv4Address>192.0.2.1</ipv4Address>`, "X2andX3", didList, ""), er(CodeSyntax), 200, ""},
		{"unknown target alternative", activate(xidNew, `<msnHandle>x</msnHandle>`, "X2andX3", didList, ""), er(CodeSyntax), 200, "msnHandle"},
		{"e164Number target", activate(xidNew, `<e164Number>447700900000</e164Number>`, "X2andX3", didList, ""), er(CodeActivateFailed), 200, "e164Number"},
		{"imsi target", activate(xidNew, `<imsi>262011234567890</imsi>`, "X2andX3", didList, ""), er(CodeActivateFailed), 200, "imsi"},
		{"duplicate XID", activate(xidA, email, "X2andX3", didList, ""), er(CodeXIDExists), 200, xidA},
		{"unknown DID", activate(xidNew, email, "X2andX3", "<dId>"+xidNew+"</dId>", ""), er(CodeDIDNotFound), 200, xidNew},
		{"duplicate DID in list", activate(xidNew, email, "X2andX3", didList+didList, ""), er(CodeActivateFailed), 200, didBoth},
		{"duplicate target", strings.Replace(activate(xidNew, email, "X2andX3", didList, ""), "</targetIdentifier>", "</targetIdentifier><targetIdentifier><emailAddress>CAROL@example.com</emailAddress></targetIdentifier>", 1), er(CodeActivateFailed), 200, ""},
		{"destination set", activate(xidNew, email, "X2andX3", "<dSId>"+xidNew+"</dSId>", ""), er(CodeActivateFailed), 200, "dSId"},
		{"LIID of 26 characters", activate(xidNew, email, "X2andX3", didList, `<listOfMediationDetails><mediationDetails><LIID>ABCDEFGHIJKLMNOPQRSTUVWXYZ</LIID><deliveryType>HI2andHI3</deliveryType></mediationDetails></listOfMediationDetails>`), er(CodeActivateFailed), 200, "25"},
		{"LIID of 26 hex digits", activate(xidNew, email, "X2andX3", didList, `<listOfMediationDetails><mediationDetails><LIID>0123456789abcdef0123456789</LIID><deliveryType>HI2andHI3</deliveryType></mediationDetails></listOfMediationDetails>`), er(CodeActivateFailed), 200, "25"},
		{"LIID with a space", activate(xidNew, email, "X2andX3", didList, `<listOfMediationDetails><mediationDetails><LIID>A B</LIID><deliveryType>HI2andHI3</deliveryType></mediationDetails></listOfMediationDetails>`), er(CodeSyntax), 200, "LIID"},
		{"EndTime before StartTime", activate(xidNew, email, "X2andX3", didList, `<listOfMediationDetails><mediationDetails><LIID>L1</LIID><deliveryType>HI2andHI3</deliveryType><StartTime>2026-03-01T12:00:00.000000Z</StartTime><EndTime>2026-02-01T12:00:00.000000Z</EndTime></mediationDetails></listOfMediationDetails>`), er(CodeActivateFailed), 200, "EndTime"},
		{"HI3 warrant on an X2Only task", activate(xidNew, email, "X2Only", didList, `<listOfMediationDetails><mediationDetails><LIID>L1</LIID><deliveryType>HI3Only</deliveryType></mediationDetails></listOfMediationDetails>`), er(CodeInvalidDeliveryCombo), 200, ""},
		{"X3 task with an X2-only destination", activate(xidNew, email, "X2andX3", "<dId>"+didHI2+"</dId>", ""), er(CodeInvalidDeliveryCombo), 200, "X3"},
		{"task without destinations", activate(xidNew, email, "X2Only", "", ""), er(CodeInvalidDeliveryCombo), 200, ""},
		{"modify unknown XID", strings.Replace(activate(xidNew, email, "X2andX3", didList, ""), "ActivateTaskRequest", "ModifyTaskRequest", 1), er(CodeXIDNotFound), 200, xidNew},
		{"modify to e164Number", strings.Replace(activate(xidA, `<e164Number>1</e164Number>`, "X2andX3", didList, ""), "ActivateTaskRequest", "ModifyTaskRequest", 1), er(CodeModifyFailed), 200, "e164Number"},
		{"deactivate unknown XID", msgDoc("DeactivateTaskRequest", "<xId>"+xidNew+"</xId>"), er(CodeXIDNotFound), 200, xidNew},
		{"duplicate DID create", msgDoc("CreateDestinationRequest", `<destinationDetails><dId>`+didBoth+`</dId><deliveryType>X2Only</deliveryType><deliveryAddress><ipAddressAndPort><c:address><c:IPv4Address>192.0.2.9</c:IPv4Address></c:address><c:port><c:TCPPort>4000</c:TCPPort></c:port></ipAddressAndPort></deliveryAddress></destinationDetails>`), er(CodeDIDExists), 200, didBoth},
		{"UDP destination", msgDoc("CreateDestinationRequest", `<destinationDetails><dId>`+xidNew+`</dId><deliveryType>X2Only</deliveryType><deliveryAddress><ipAddressAndPort><c:address><c:IPv4Address>192.0.2.9</c:IPv4Address></c:address><c:port><c:UDPPort>4000</c:UDPPort></c:port></ipAddressAndPort></deliveryAddress></destinationDetails>`), er(CodeGeneric), 200, "UDP"},
		{"TCP port 1", msgDoc("CreateDestinationRequest", `<destinationDetails><dId>`+xidNew+`</dId><deliveryType>X2Only</deliveryType><deliveryAddress><ipAddressAndPort><c:address><c:IPv4Address>192.0.2.9</c:IPv4Address></c:address><c:port><c:TCPPort>1</c:TCPPort></c:port></ipAddressAndPort></deliveryAddress></destinationDetails>`), er(CodeSyntax), 200, ""},
		{"address in the wrong namespace", msgDoc("CreateDestinationRequest", `<destinationDetails><dId>`+xidNew+`</dId><deliveryType>X2Only</deliveryType><deliveryAddress><ipAddressAndPort><address><IPv4Address>192.0.2.9</IPv4Address></address><port><TCPPort>4000</TCPPort></port></ipAddressAndPort></deliveryAddress></destinationDetails>`), er(CodeSyntax), 200, ""},
		{"http uri destination", msgDoc("CreateDestinationRequest", `<destinationDetails><dId>`+xidNew+`</dId><deliveryType>X2Only</deliveryType><deliveryAddress><uri>http://lemf.example/</uri></deliveryAddress></destinationDetails>`), er(CodeGeneric), 200, "tcp://"},
		{"e164 destination", msgDoc("CreateDestinationRequest", `<destinationDetails><dId>`+xidNew+`</dId><deliveryType>X2Only</deliveryType><deliveryAddress><e164Number>4930123</e164Number></deliveryAddress></destinationDetails>`), er(CodeGeneric), 200, "e164Number"},
		{"remove destination in use", msgDoc("RemoveDestinationRequest", "<dId>"+didBoth+"</dId>"), er(CodeDestinationInUse), 200, xidA},
		{"narrow a destination in use", msgDoc("ModifyDestinationRequest", `<destinationDetails><dId>`+didBoth+`</dId><deliveryType>X2Only</deliveryType><deliveryAddress><uri>tcp://lemf.example:4000</uri></deliveryAddress></destinationDetails>`), er(CodeInvalidDeliveryCombo), 200, xidA},
		{"remove unknown destination", msgDoc("RemoveDestinationRequest", "<dId>"+xidNew+"</dId>"), er(CodeDIDNotFound), 200, xidNew},
	}
	e := newEnv(t)
	for _, r := range []Request{
		&CreateDestinationRequest{Destination: dest(didHI2, X2Only, "192.0.2.1:5000")},
		&CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.2:5000")},
		&ActivateTaskRequest{Task: emailTask(xidA, "alice@example.com", didBoth)},
	} {
		if m := e.reg.Apply(t.Context(), "setup", r); m.Error != nil {
			t.Fatalf("setup %s: %+v", r.Type(), m.Error)
		}
	}
	chk := &xsdCheck{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot(t)
			audit := e.auditLen(t)
			resp, status := e.reg.Handle(t.Context(), "test:"+c.name, []byte(c.doc))
			chk.add(c.name, resp)
			got, d := outcomes(t, resp)
			if !slices.Equal(got, c.want) || status != c.status {
				t.Fatalf("got %v (HTTP %d), want %v (HTTP %d)", got, status, c.want, c.status)
			}
			if c.desc != "" && !strings.Contains(d.Responses[0].Error.Description, c.desc) {
				t.Errorf("errorDescription %q does not mention %q", d.Responses[0].Error.Description, c.desc)
			}
			mustEqual(t, "registry", e.snapshot(t), before)
			if n := e.auditLen(t); n != audit+1 {
				t.Fatalf("audit log grew by %d, want 1", n-audit)
			}
			a := e.lastAudit(t)
			if a.Result != "error" || a.Principal != "test:"+c.name || a.Code == 0 {
				t.Errorf("audit = %+v", a.AuditRecord)
			}
		})
	}
	chk.validate(t)
}

// TestMultiRequestIndependent: in one document, a refused message does not
// stop the others, and each is answered in order.
func TestMultiRequestIndependent(t *testing.T) {
	e := newEnv(t)
	ping := &PingRequest{}
	bad := &ActivateTaskRequest{Task: emailTask(xidA, "alice@example.com", didBoth)} // DID unknown yet
	create := &CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.2:5000")}
	good := &ActivateTaskRequest{Task: emailTask(xidA, "alice@example.com", didBoth)}
	dup := &ActivateTaskRequest{Task: emailTask(xidA, "alice@example.com", didBoth)}
	doc := encode(t, ping, bad, create, good, dup)
	// Make one message schema-invalid: the ping's second copy.
	doc = bytes.Replace(doc, []byte("</x1:X1Request>"), []byte(`<x1:x1RequestMessage xsi:type="x1:PingRequest"><x1:admfIdentifier>a</x1:admfIdentifier><x1:neIdentifier>n</x1:neIdentifier><x1:messageTimestamp>bad</x1:messageTimestamp><x1:version>v1.1.1</x1:version><x1:x1TransactionId>00000000-0000-4000-8000-000000000099</x1:x1TransactionId></x1:x1RequestMessage></x1:X1Request>`), 1)
	chk := &xsdCheck{}
	got, d, _ := e.handle(t, chk, "multi", doc)
	want := []outcome{{Type: "PingResponse"}, {"ErrorResponse", CodeDIDNotFound}, {Type: "CreateDestinationResponse"},
		{Type: "ActivateTaskResponse"}, {"ErrorResponse", CodeXIDExists}, {"ErrorResponse", CodeSyntax}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i, m := range d.Responses[:5] {
		if want := fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1); m.TransactionID != want {
			t.Errorf("response %d: transaction %s, want %s", i, m.TransactionID, want)
		}
	}
	if m := d.Responses[5]; m.TransactionID != "00000000-0000-4000-8000-000000000099" || m.Version != "v1.1.1" {
		t.Errorf("last response header = %+v", m.Header)
	}
	if _, ok := e.reg.Task(xidA); !ok {
		t.Error("the good activation was not applied")
	}
	if n := e.auditLen(t); n != 6 {
		t.Errorf("%d audit entries, want 6", n)
	}
	chk.validate(t)
}
