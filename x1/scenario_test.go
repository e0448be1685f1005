package x1

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestScenario is RCDS's own provisioning scenario: destinations, an
// emailAddress task, duplicate XID (2010), unknown DID (2040), modify,
// get, list, remove of a destination in use (7010), deactivate. Every
// response is compared with a golden file and validated against the XSD;
// the subscriber sees exactly the committed changes in order; every
// operation is audited.
func TestScenario(t *testing.T) {
	e := newEnv(t, WithClock(fixedClock()), WithNEIdentifier("ne-test"))
	var mu sync.Mutex
	var changes []string
	cancel := e.reg.Subscribe(func(c Change) {
		mu.Lock()
		defer mu.Unlock()
		id := ""
		if c.Task != nil {
			id = c.Task.XID
		} else {
			id = c.Destination.DID
		}
		changes = append(changes, c.Kind.String()+" "+id)
	})
	defer cancel()

	const unknownDID = "d1000000-0000-4000-8000-0000000000ff"
	modified := Task{
		XID: xidA,
		Targets: []Target{
			{Kind: TargetEmail, Value: "Alice@Example.com"},
			{Kind: TargetIPv4, Value: "198.51.100.7"},
			{Kind: TargetIPv6CIDR, Value: "2001:db8:1::/48"},
		},
		DeliveryType: X2andX3,
		DIDs:         []string{didBoth},
		Mediation: []MediationDetails{
			{LIID: "LIID-A1", DeliveryType: HI2andHI3}, // inherits didBoth
			{LIID: "LIID-A2", DeliveryType: HI2Only, DIDs: []string{didHI2}, EndTime: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)},
		},
		CorrelationID: "42",
	}
	steps := []struct {
		name string
		req  Request
		want outcome
		desc string // expected errorDescription, when checked
	}{
		{"create HI2 destination", &CreateDestinationRequest{Destination: dest(didHI2, X2Only, "192.0.2.10:5000")}, outcome{Type: "CreateDestinationResponse"}, ""},
		{"create HI3 destination (uri)", &CreateDestinationRequest{Destination: Destination{DID: didHI3, DeliveryType: X3Only, Address: "lemf.example:5001", URI: "tcp://lemf.example:5001"}}, outcome{Type: "CreateDestinationResponse"}, ""},
		{"create HI2+HI3 destination (IPv6)", &CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "[2001:db8::1]:5002")}, outcome{Type: "CreateDestinationResponse"}, ""},
		{"activate emailAddress task", &ActivateTaskRequest{Task: emailTask(xidA, "Alice@Example.com", didHI2, didHI3)}, outcome{Type: "ActivateTaskResponse"}, ""},
		{"duplicate XID", &ActivateTaskRequest{Task: emailTask(xidA, "bob@example.com", didHI2, didHI3)}, outcome{"ErrorResponse", CodeXIDExists}, xidA},
		{"unknown DID", &ActivateTaskRequest{Task: emailTask(xidB, "bob@example.com", didHI2, unknownDID)}, outcome{"ErrorResponse", CodeDIDNotFound}, unknownDID},
		{"modify task", &ModifyTaskRequest{Task: modified}, outcome{Type: "ModifyTaskResponse"}, ""},
		{"get task", &GetTaskDetailsRequest{XID: xidA}, outcome{Type: "GetTaskDetailsResponse"}, ""},
		{"list", &ListAllDetailsRequest{}, outcome{Type: "ListAllDetailsResponse"}, ""},
		{"get all", &GetAllDetailsRequest{}, outcome{Type: "GetAllDetailsResponse"}, ""},
		{"remove destination in use", &RemoveDestinationRequest{DID: didBoth}, outcome{"ErrorResponse", CodeDestinationInUse}, xidA},
		{"remove HI3 destination (no longer used)", &RemoveDestinationRequest{DID: didHI3}, outcome{Type: "RemoveDestinationResponse"}, ""},
		{"get destination", &GetDestinationDetailsRequest{DID: didBoth}, outcome{Type: "GetDestinationDetailsResponse"}, ""},
		{"ping", &PingRequest{}, outcome{Type: "PingResponse"}, ""},
		{"keepalive", &KeepaliveRequest{}, outcome{Type: "KeepaliveResponse"}, ""},
		{"deactivate", &DeactivateTaskRequest{XID: xidA}, outcome{Type: "DeactivateTaskResponse"}, ""},
		{"deactivate again", &DeactivateTaskRequest{XID: xidA}, outcome{"ErrorResponse", CodeXIDNotFound}, xidA},
		{"list after", &ListAllDetailsRequest{}, outcome{Type: "ListAllDetailsResponse"}, ""},
	}
	chk := &xsdCheck{}
	var getTask *Task
	var list []ResponseMessage
	for i, st := range steps {
		st.req.Head().TransactionID = fmt.Sprintf("5ce0a210-0000-4000-8000-%012d", i+1)
		got, d, status := e.handle(t, chk, st.name, encode(t, st.req))
		if status != 200 || len(got) != 1 || got[0] != st.want {
			t.Errorf("%s: got %v (HTTP %d), want [%v]", st.name, got, status, st.want)
			continue
		}
		m := d.Responses[0]
		if m.TransactionID != st.req.Head().TransactionID {
			t.Errorf("%s: transaction %s, want %s", st.name, m.TransactionID, st.req.Head().TransactionID)
		}
		if st.desc != "" && m.Error.Description != st.desc {
			t.Errorf("%s: errorDescription %q, want %q", st.name, m.Error.Description, st.desc)
		}
		if m.Task != nil {
			getTask = m.Task
		}
		if m.Type == "ListAllDetailsResponse" {
			list = append(list, m)
		}
	}
	chk.validate(t)

	// The modified task as GetTaskDetails returned it: the warrant without
	// listOfDIDs inherited the task's.
	if getTask == nil {
		t.Fatal("no task in GetTaskDetailsResponse")
	}
	mustEqual(t, "targets", getTask.Targets, modified.Targets)
	mustEqual(t, "mediation DIDs", [][]string{getTask.Mediation[0].DIDs, getTask.Mediation[1].DIDs}, [][]string{{didBoth}, {didHI2}})
	if getTask.Modifications != 1 || getTask.Modified.IsZero() || getTask.CorrelationID != "42" {
		t.Errorf("task status: modifications=%d modified=%v correlation=%q", getTask.Modifications, getTask.Modified, getTask.CorrelationID)
	}
	if len(list) != 2 {
		t.Fatalf("%d list responses", len(list))
	}
	mustEqual(t, "list XIDs", list[0].XIDs, []string{xidA})
	mustEqual(t, "list DIDs", list[0].DIDs, []string{didHI2, didHI3, didBoth})
	mustEqual(t, "list XIDs after", list[1].XIDs, []string(nil))
	mustEqual(t, "list DIDs after", list[1].DIDs, []string{didHI2, didBoth})

	mustEqual(t, "changes", changes, []string{
		"DestinationCreated " + didHI2,
		"DestinationCreated " + didHI3,
		"DestinationCreated " + didBoth,
		"TaskActivated " + xidA,
		"TaskModified " + xidA,
		"DestinationRemoved " + didHI3,
		"TaskDeactivated " + xidA,
	})

	// Every step is audited once, with who, what and the result.
	audit, err := ReadAudit(e.db, 0, len(steps))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range audit {
		st := steps[i]
		wantResult := "ok"
		if st.want.Code != 0 {
			wantResult = "error"
		}
		if a.Principal != "test:"+st.name || a.Operation != string(st.req.Type()) || a.Result != wantResult || a.Code != int(st.want.Code) {
			t.Errorf("audit %d = %+v; want principal %q op %s result %s code %d", i, a.AuditRecord, "test:"+st.name, st.req.Type(), wantResult, st.want.Code)
		}
	}
	if a := audit[3]; a.XID != xidA || a.TransactionID != steps[3].req.Head().TransactionID || a.ADMF != "admf-test" {
		t.Errorf("activate audit = %+v", a.AuditRecord)
	}

	// The golden file: every response of a replay of the scenario on a
	// fresh registry with the same clock.
	g := newEnv(t, WithClock(fixedClock()), WithNEIdentifier("ne-test"))
	var golden bytes.Buffer
	for _, st := range steps {
		resp, _ := g.reg.Handle(t.Context(), "golden", encode(t, st.req))
		fmt.Fprintf(&golden, "=== %s\n%s", st.name, resp)
	}
	compareGolden(t, "scenario.golden", golden.Bytes())
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var a, b []byte
			if i < len(gl) {
				a = gl[i]
			}
			if i < len(wl) {
				b = wl[i]
			}
			if !bytes.Equal(a, b) {
				t.Fatalf("%s differs at line %d:\n got %s\nwant %s\n(run go test -update if the change is intended)", path, i+1, a, b)
			}
		}
	}
}

// TestPersistence reopens the store: tasks and destinations survive, and
// so does the audit log.
func TestPersistence(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, r := range []Request{
		&CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.1:7000")},
		&ActivateTaskRequest{Task: emailTask(xidA, "alice@example.com", didBoth)},
	} {
		encode(t, r)
		if m := e.reg.Apply(ctx, "test", r); m.Error != nil {
			t.Fatalf("%s: %+v", r.Type(), m.Error)
		}
	}
	before := e.snapshot(t)
	audit := e.auditLen(t)
	e.reopen(t)
	after := e.snapshot(t)
	mustEqual(t, "registry after reopen", after, before)
	if n := e.auditLen(t); n != audit {
		t.Errorf("audit log has %d entries after reopen, want %d", n, audit)
	}
	if !slices.ContainsFunc(after.Tasks, func(x Task) bool { return x.XID == xidA && !x.Activated.IsZero() }) {
		t.Errorf("task %s missing after reopen", xidA)
	}
}
