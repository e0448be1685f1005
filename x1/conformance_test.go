package x1

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rcds/internal/testtools"
)

// Conformance with the public X1 examples in ../shared/etsi/examples
// (sipgate's li-lib-x1x2x3 and li-simulator-x1x2x3). See README.md for the
// examples that are themselves off-spec.

func examplesDir(t testing.TB) string {
	return testtools.Path(t, "etsi/examples")
}

func readExample(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// simRequests extracts the X1 request bodies of sim-to-ne.http (an
// IntelliJ HTTP-client file: requests separated by ###).
func simRequests(t testing.TB) [][]byte {
	t.Helper()
	raw := readExample(t, "x1-sipgate-simulator/sim-to-ne.http")
	re := regexp.MustCompile(`(?s)<\?xml.*?</ns1:X1Request>`)
	docs := re.FindAll(raw, -1)
	if len(docs) == 0 {
		t.Fatal("no X1 request in sim-to-ne.http")
	}
	return docs
}

// TestExampleRequests answers every example request document. The
// valid ones get the response type the matching fixture shows, except
// that e164Number targets are refused as unsupported (3000 naming the
// type); the deliberately invalid ones are refused. Nothing in them
// changes the registry except what the answers say.
func TestExampleRequests(t *testing.T) {
	type tc struct {
		name    string
		doc     []byte
		prepare bool // create the example's destination first
		want    []outcome
		check   func(t *testing.T, d Document)
	}
	cases := []tc{
		{name: "PingRequest_example", doc: readExample(t, "x1-sipgate-lib/PingRequest_example.xml"),
			want: []outcome{{Type: "PingResponse"}},
			check: func(t *testing.T, d Document) {
				// Fixture PingResponse_example.xml: same type, header echoed.
				m := d.Responses[0]
				if m.ADMFIdentifier != "admfID" || m.NEIdentifier != "neID" || m.Version != "v1.6.1" || m.TransactionID != "3741800e-971b-4aa9-85f4-466d2b1adc7f" || m.OK != OK {
					t.Errorf("header = %+v", m.Header)
				}
			}},
		{name: "MultiRequest_example", doc: readExample(t, "x1-sipgate-lib/MultiRequest_example.xml"),
			want: []outcome{{Type: "PingResponse"}, {Type: "PingResponse"}},
			check: func(t *testing.T, d Document) {
				if d.Responses[0].TransactionID != "3741800e-971b-4aa9-85f4-466d2b1adc7f" || d.Responses[1].TransactionID != "3741800e-971b-4aa9-85f4-466d2b1adc80" {
					t.Errorf("responses out of order: %s, %s", d.Responses[0].TransactionID, d.Responses[1].TransactionID)
				}
			}},
		{name: "ActivateTaskRequest_example (e164Number)", doc: readExample(t, "x1-sipgate-lib/ActivateTaskRequest_example.xml"),
			prepare: true,
			want:    []outcome{{"ErrorResponse", CodeActivateFailed}},
			check: func(t *testing.T, d Document) {
				m := d.Responses[0]
				if m.RequestType != ReqActivateTask || !strings.Contains(m.Error.Description, "e164Number") {
					t.Errorf("error = %s %+v, want ActivateTask naming e164Number", m.RequestType, m.Error)
				}
			}},
		{name: "ActivateTaskRequest_example without its destination", doc: readExample(t, "x1-sipgate-lib/ActivateTaskRequest_example.xml"),
			want: []outcome{{"ErrorResponse", CodeActivateFailed}}},
		{name: "BadVersionRequest_example", doc: readExample(t, "x1-sipgate-lib/X1HttpServerHandlerTest/BadVersionRequest_example.xml"),
			want: []outcome{{"ErrorResponse", CodeUnsupportedVersion}},
			check: func(t *testing.T, d Document) {
				if m := d.Responses[0]; m.Version != Version || m.RequestType != ReqPing {
					t.Errorf("answered with version %q for %s; want %s for Ping", m.Version, m.RequestType, Version)
				}
			}},
		{name: "EmptyRequest_example", doc: readExample(t, "x1-sipgate-lib/X1HttpServerHandlerTest/EmptyRequest_example.xml"),
			want: []outcome{{Type: "TopLevelError"}}},
		{name: "xxe", doc: readExample(t, "x1-sipgate-lib/xxe.xml"), want: []outcome{{Type: "TopLevelError"}}},
	}
	for i, doc := range simRequests(t) {
		cases = append(cases, tc{name: "sim-to-ne.http #" + string(rune('1'+i)) + " (dId not a UUID)", doc: doc,
			want: []outcome{{"ErrorResponse", CodeSyntax}},
			check: func(t *testing.T, d Document) {
				if m := d.Responses[0]; m.RequestType != ReqActivateTask || !strings.Contains(m.Error.Description, "pre-shared-did") {
					t.Errorf("error = %s %+v", m.RequestType, m.Error)
				}
			}})
	}
	// Response documents posted as requests are refused.
	responses, _ := filepath.Glob(filepath.Join(examplesDir(t), "x1-sipgate-*", "*Response*.xml"))
	more, _ := filepath.Glob(filepath.Join(examplesDir(t), "x1-sipgate-*", "*", "*.xml"))
	for _, f := range append(responses, more...) {
		if strings.Contains(f, "X1HttpServerHandlerTest") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tc{name: "response as request: " + filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f), doc: b,
			want: []outcome{{Type: "TopLevelError"}}})
	}
	chk := &xsdCheck{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.prepare {
				m := e.reg.Apply(t.Context(), "test", &CreateDestinationRequest{Destination: dest("19867c20-8c94-473e-b9cd-8b72b7b05fd4", X2andX3, "192.0.2.1:5000")})
				if m.Error != nil {
					t.Fatal(m.Error)
				}
			}
			before := e.snapshot(t)
			audit := e.auditLen(t)
			got, d, _ := e.handle(t, chk, c.name, c.doc)
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			if c.check != nil {
				c.check(t, d)
			}
			mustEqual(t, "registry", e.snapshot(t), before)
			if n := e.auditLen(t); n != audit+len(c.want) {
				t.Errorf("audit log grew by %d, want %d", n-audit, len(c.want))
			}
		})
	}
	chk.validate(t)
}

// TestXXENothingFetched posts documents whose DTD points at a listener of
// ours: they are refused, and nothing connects.
func TestXXENothingFetched(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var connections atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connections.Add(1)
			c.Close()
		}
	}()
	url := "http://" + ln.Addr().String() + "/x"
	ping := readExample(t, "x1-sipgate-lib/PingRequest_example.xml")
	body := ping[bytes.Index(ping, []byte("<ns1:X1Request")):]
	docs := map[string]string{
		"external entity": `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "` + url + `">]>` +
			strings.Replace(string(body), "admfID<", "&x;<", 1),
		"external DTD":     `<?xml version="1.0"?><!DOCTYPE r SYSTEM "` + url + `">` + string(body),
		"parameter entity": `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "` + url + `"> %p;]>` + string(body),
		"billion laughs": `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">` +
			`<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>` + strings.Replace(string(body), "admfID<", "&c;<", 1),
		"lower-case doctype": `<?xml version="1.0"?><!doctype r SYSTEM "` + url + `">` + string(body),
		"entity without DTD": strings.Replace(string(body), "admfID<", "&x;<", 1),
	}
	chk := &xsdCheck{}
	e := newEnv(t)
	for name, doc := range docs {
		got, _, _ := e.handle(t, chk, name, []byte(doc))
		if !slices.Equal(got, []outcome{{Type: "TopLevelError"}}) {
			t.Errorf("%s: got %v, want a top-level error", name, got)
		}
		if a := e.lastAudit(t); a.Operation != AuditTopLevelError || a.Result != "error" {
			t.Errorf("%s: audit = %+v", name, a.AuditRecord)
		}
	}
	// Let a connection that was (wrongly) started arrive before counting.
	time.Sleep(50 * time.Millisecond)
	if n := connections.Load(); n != 0 {
		t.Errorf("%d connections to the entity's URL", n)
	}
	chk.validate(t)
}

// TestSimulatorFixtures replays the states of sipgate's NE simulator
// (Started, DestinationAdded, TaskAdded, TaskModified, DestinationModified,
// Control) with requests matching each fixture, and compares the response
// type, the error code and (where the fixture checks it) the error
// description with the fixture's. Tasks use an emailAddress target where
// the simulator used e164Number (which RCDS refuses).
func TestSimulatorFixtures(t *testing.T) {
	const (
		did    = "4faa0058-25ec-42c9-a945-4c3c8e0c7f8d"
		xid    = "55b848ea-b4c2-4d80-a4c9-46592792e5b7"
		fixDir = "x1-sipgate-simulator/fixtures"
	)
	d1 := Destination{DID: did, FriendlyName: "we-are-friendly.example.com", DeliveryType: X2andX3, Address: "192.0.2.1:42069"}
	d2 := Destination{DID: did, FriendlyName: "they-are-unfriendly.example.com", DeliveryType: X2andX3, Address: "192.0.2.23:12345"}
	task := Task{XID: xid, Targets: []Target{{Kind: TargetEmail, Value: "target@example.com"}}, DeliveryType: X2andX3, DIDs: []string{did}}
	modified := task
	modified.Targets = []Target{{Kind: TargetEmail, Value: "other@example.com"}}
	badCombo := task
	badCombo.DeliveryType = X2Only
	badCombo.Mediation = []MediationDetails{{LIID: "LIID1", DeliveryType: HI2andHI3}}
	otherXID := "a9000000-0000-4000-8000-000000000001"
	badComboNew := badCombo
	badComboNew.XID = otherXID

	steps := []struct {
		fixture string // relative to fixDir; "" for a state change without fixture
		req     Request
		check   func(t *testing.T, got ResponseMessage)
	}{
		{"Started/ListAllDetailsResponse_positive.xml", &ListAllDetailsRequest{}, nil},
		{"Started/ActivateTask_DidDoesNotExist.xml", &ActivateTaskRequest{Task: task}, nil},
		{"Started/DestinationDetails_DidDoesNotExist.xml", &GetDestinationDetailsRequest{DID: "00000000-0000-1337-0000-000000000152"}, nil},
		{"Started/ModifyDestination_DidDoesNotExist.xml", &ModifyDestinationRequest{Destination: Destination{DID: "00000000-0000-1337-0000-000000000164", DeliveryType: X2Only, Address: "192.0.2.1:1234"}}, nil},
		{"Started/RemoveDestination_DidDoesNotExist.xml", &RemoveDestinationRequest{DID: "00000000-0000-1337-0000-000000000001"}, nil},
		{"Started/CreateDestinationResponse_positive.xml", &CreateDestinationRequest{Destination: d1}, nil},
		// state DestinationAdded
		{"DestinationAdded/CreateDestination_DidAlreadyExists.xml", &CreateDestinationRequest{Destination: d1}, nil},
		{"DestinationAdded/DeactivateTask_XidDoesNotExist.xml", &DeactivateTaskRequest{XID: "00000000-0000-1337-0001-000000000300"}, nil},
		{"DestinationAdded/GetTaskDetails_XidDoesNotExist.xml", &GetTaskDetailsRequest{XID: xid}, nil},
		{"DestinationAdded/ModifyTask_XidDoesNotExist.xml", &ModifyTaskRequest{Task: Task{XID: "00000000-0000-1337-0001-000000000283", Targets: task.Targets, DeliveryType: X2andX3, DIDs: []string{did}}}, nil},
		{"DestinationAdded/ListAllDetailsResponse_positive.xml", &ListAllDetailsRequest{}, nil},
		{"DestinationAdded/GetDestinationDetailsResponse_positive.xml", &GetDestinationDetailsRequest{DID: did}, func(t *testing.T, got ResponseMessage) {
			mustEqual(t, "destination", *got.Destination, d1)
		}},
		{"DestinationAdded/ActivateTask_InvalidCombinationOfDeliveryTypeAndDestinations.xml", &ActivateTaskRequest{Task: badComboNew}, nil},
		{"DestinationAdded/RemoveDestinationResponse_positive.xml", &RemoveDestinationRequest{DID: did}, nil},
		{"", &CreateDestinationRequest{Destination: d1}, nil},
		{"DestinationAdded/ModifyDestinationResponse_positive.xml", &ModifyDestinationRequest{Destination: d2}, nil},
		// state DestinationModified
		{"DestinationModified/GetDestinationDetailsResponse_positive.xml", &GetDestinationDetailsRequest{DID: did}, func(t *testing.T, got ResponseMessage) {
			mustEqual(t, "destination", *got.Destination, d2)
		}},
		{"DestinationAdded/ActivateTaskResponse_positive.xml", &ActivateTaskRequest{Task: task}, nil},
		// state TaskAdded
		{"TaskAdded/ActivateTask_XidAlreadyExists.xml", &ActivateTaskRequest{Task: task}, nil},
		{"TaskAdded/GetTaskDetailsResponse_positive.xml", &GetTaskDetailsRequest{XID: xid}, func(t *testing.T, got ResponseMessage) {
			if got.Task.XID != xid || !slices.Equal(got.Task.DIDs, []string{did}) || got.Task.DeliveryType != X2andX3 {
				t.Errorf("task = %+v", got.Task)
			}
		}},
		{"TaskAdded/ListAllDetailsResponse_positive.xml", &ListAllDetailsRequest{}, nil},
		{"TaskAdded/RemoveDestination_DestinationInUse.xml", &RemoveDestinationRequest{DID: did}, nil},
		{"TaskAdded/ModifyTask_InvalidCombinationOfDeliveryTypeAndDestinations.xml", &ModifyTaskRequest{Task: badCombo}, nil},
		{"TaskAdded/ModifyTaskResponse_positive.xml", &ModifyTaskRequest{Task: modified}, nil},
		// state TaskModified
		{"TaskModified/GetTaskDetailsResponse_positive.xml", &GetTaskDetailsRequest{XID: xid}, func(t *testing.T, got ResponseMessage) {
			mustEqual(t, "targets", got.Task.Targets, modified.Targets)
		}},
		{"TaskAdded/DeactivateTaskResponse_positive.xml", &DeactivateTaskRequest{XID: xid}, nil},
		{"Control/PingResponse_positive.xml", &PingRequest{}, nil},
		{"Control/KeepaliveResponse_positive.xml", &KeepaliveRequest{}, nil},
		{"TopLevelErrorResponse_example.xml", nil, nil}, // answered to a request that cannot be parsed
	}

	// Every fixture is used.
	var all []string
	err := filepath.WalkDir(filepath.Join(examplesDir(t), fixDir), func(p string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() && strings.HasSuffix(p, ".xml") {
			rel, _ := filepath.Rel(filepath.Join(examplesDir(t), fixDir), p)
			all = append(all, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	for _, s := range steps {
		if s.fixture != "" {
			used = append(used, s.fixture)
		}
	}
	sort.Strings(all)
	sort.Strings(used)
	mustEqual(t, "fixtures covered", used, all)

	e := newEnv(t)
	chk := &xsdCheck{}
	for _, s := range steps {
		name := s.fixture
		if name == "" {
			name = "state change"
		}
		var doc []byte
		if s.req != nil {
			doc = encode(t, s.req)
		} else {
			doc = []byte("<not-x1/>")
		}
		got, d, _ := e.handle(t, chk, name, doc)
		if s.fixture == "" {
			if got[0].Code != 0 {
				t.Fatalf("%s: %v", name, got)
			}
			continue
		}
		fix, ferr := DecodeResponse(readExample(t, filepath.Join(fixDir, s.fixture)))
		want, _ := outcomesOf(fix)
		if len(want) == 0 {
			t.Fatalf("%s: fixture does not decode: %v", name, ferr)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, fixture has %v", name, got, want)
			continue
		}
		if d.TopLevelError != nil {
			continue
		}
		m, fm := d.Responses[0], fix.Responses[0]
		if fm.Error != nil {
			if fm.RequestType != m.RequestType {
				t.Errorf("%s: requestMessageType %s, fixture %s", name, m.RequestType, fm.RequestType)
			}
			if fd := strings.TrimSpace(fm.Error.Description); fd != "" && fd != m.Error.Description {
				t.Errorf("%s: errorDescription %q, fixture %q", name, m.Error.Description, fd)
			}
		}
		if fm.Type == "ListAllDetailsResponse" {
			mustEqual(t, name+": XIDs", m.XIDs, fm.XIDs)
			mustEqual(t, name+": DIDs", m.DIDs, fm.DIDs)
		}
		if s.check != nil {
			s.check(t, m)
		}
	}
	chk.validate(t)
}

func outcomesOf(d Document) ([]outcome, bool) {
	if d.TopLevelError != nil {
		return []outcome{{Type: "TopLevelError"}}, true
	}
	var out []outcome
	for _, m := range d.Responses {
		o := outcome{Type: m.Type}
		if m.Error != nil {
			o.Code = m.Error.Code
		}
		out = append(out, o)
	}
	return out, false
}

// TestExampleResponsesDecode reads every example response with the
// client's decoder. The decoder gets type and code out of all of them
// and reports exactly the off-spec ones (README.md lists them), which are
// also exactly the ones x1-validate refuses.
func TestExampleResponsesDecode(t *testing.T) {
	offSpec := map[string]bool{ // relative to etsi/examples
		"x1-sipgate-lib/NoResponsesInResponseContainer_example.xml": true,
		"x1-sipgate-lib/xxe.xml":                                    true,
		"x1-sipgate-simulator/fixtures/DestinationAdded/ActivateTask_InvalidCombinationOfDeliveryTypeAndDestinations.xml": true,
		"x1-sipgate-simulator/fixtures/TaskAdded/ModifyTask_InvalidCombinationOfDeliveryTypeAndDestinations.xml":          true,
		"x1-sipgate-simulator/fixtures/DestinationAdded/GetDestinationDetailsResponse_positive.xml":                       true,
		"x1-sipgate-simulator/fixtures/DestinationModified/GetDestinationDetailsResponse_positive.xml":                    true,
		"x1-sipgate-simulator/fixtures/TaskModified/GetTaskDetailsResponse_positive.xml":                                  true,
	}
	root := examplesDir(t)
	var files []string
	wantInvalid := map[string]bool{}
	for _, dir := range []string{"x1-sipgate-lib", "x1-sipgate-simulator"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() || !strings.HasSuffix(p, ".xml") {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte("X1Request")) && !bytes.Contains(b, []byte("X1Response")) {
				files = append(files, p)
				wantInvalid[p] = strings.Contains(rel, "BadVersion") || strings.Contains(rel, "EmptyRequest")
				return nil // requests: TestExampleRequests
			}
			files = append(files, p)
			wantInvalid[p] = offSpec[rel]
			d, derr := DecodeResponse(b)
			if (derr != nil) != offSpec[rel] {
				t.Errorf("%s: decode error %v, off-spec %v", rel, derr, offSpec[rel])
			}
			if rel == "x1-sipgate-lib/xxe.xml" || strings.Contains(rel, "NoResponses") {
				return nil
			}
			o, _ := outcomesOf(d)
			if len(o) == 0 || o[0].Type == "" {
				t.Errorf("%s: no response type decoded", rel)
			}
			if strings.Contains(rel, "Error") || strings.Contains(rel, "DoesNotExist") || strings.Contains(rel, "AlreadyExists") || strings.Contains(rel, "Invalid") || strings.Contains(rel, "InUse") {
				if d.TopLevelError == nil && (len(o) != 1 || o[0].Code == 0) {
					t.Errorf("%s: no error code decoded: %v", rel, o)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 40 {
		t.Fatalf("only %d example files found", len(files))
	}
	t.Run("x1-validate agrees", func(t *testing.T) {
		tool := testtools.Tool(t, "x1-validate", "xmllint")
		validateFiles(t, tool, files, wantInvalid)
	})
}
