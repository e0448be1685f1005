package x1

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fullTask uses every field the encoder writes.
func fullTask() Task {
	return Task{
		XID: xidA,
		Targets: []Target{
			{Kind: TargetEmail, Value: "Alice@Example.com"},
			{Kind: TargetIPv4, Value: "192.0.2.7"},
			{Kind: TargetIPv6, Value: "2001:db8::7"},
			{Kind: TargetIPv4CIDR, Value: "198.51.100.0/24"},
			{Kind: TargetIPv6CIDR, Value: "2001:db8:aa::/48"},
		},
		DeliveryType: X2andX3,
		DIDs:         []string{didBoth, didHI2},
		Mediation: []MediationDetails{
			{LIID: "LIID-1", DeliveryType: HI2andHI3, StartTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
				EndTime: time.Date(2027, 1, 1, 0, 0, 0, 123456000, time.UTC), DIDs: []string{didBoth}},
			{LIID: "LIID-2", DeliveryType: HI2Only, DIDs: []string{didHI2}},
		},
		ImplicitDeactivationAllowed: true,
		CorrelationID:               "18446744073709551616",
		ProductID:                   "c0000000-0000-4000-8000-000000000001",
		ServiceTypes:                []string{"messaging", "data"},
	}
}

// TestRequestRoundTrip encodes every request kind the client sends,
// decodes it as the server does, and validates the documents.
func TestRequestRoundTrip(t *testing.T) {
	reqs := []Request{
		&ActivateTaskRequest{Task: fullTask()},
		&ModifyTaskRequest{Task: emailTask(xidB, "bob@example.com", didBoth)},
		&DeactivateTaskRequest{XID: xidA},
		&DeactivateAllTasksRequest{},
		&GetTaskDetailsRequest{XID: xidA},
		&CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.1:5000")},
		&CreateDestinationRequest{Destination: dest(didHI2, X2Only, "[2001:db8::1]:5000")},
		&ModifyDestinationRequest{Destination: Destination{DID: didHI3, DeliveryType: X3Only, Address: "lemf.example:5001", URI: "tcp://lemf.example:5001"}},
		&RemoveDestinationRequest{DID: didBoth},
		&RemoveAllDestinationsRequest{},
		&GetDestinationDetailsRequest{DID: didBoth},
		&GetNEStatusRequest{},
		&GetAllDetailsRequest{},
		&GetAllTaskDetailsRequest{},
		&GetAllDestinationDetailsRequest{},
		&ListAllDetailsRequest{},
		&PingRequest{},
		&KeepaliveRequest{},
	}
	chk := &xsdCheck{}
	doc := encode(t, reqs...)
	chk.add("all requests", doc)
	for _, r := range reqs {
		chk.add(string(r.Type()), encode(t, r))
	}
	got, errs, err := DecodeRequest(doc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range reqs {
		if errs[i] != nil {
			t.Errorf("%s: %v", reqs[i].Type(), errs[i])
			continue
		}
		want := reqs[i]
		if h := want.Head(); h.Timestamp.Location() != time.UTC {
			h.Timestamp = h.Timestamp.UTC()
		}
		mustEqual(t, string(want.Type()), got[i], want)
	}
	chk.validate(t)
}

// TestResponseRoundTrip encodes every response shape the server writes
// and decodes it as the client does.
func TestResponseRoundTrip(t *testing.T) {
	h := Header{ADMFIdentifier: "admf", NEIdentifier: "ne", Timestamp: time.Date(2026, 3, 1, 12, 0, 0, 1000, time.UTC), Version: "v1.6.1", TransactionID: xidB}
	task := fullTask()
	task.Modified, task.Modifications = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 3
	task.Activated = time.Time{}
	dd := []Destination{dest(didBoth, X2andX3, "192.0.2.1:5000"), {DID: didHI3, DeliveryType: X3Only, Address: "lemf.example:5001", URI: "tcp://lemf.example:5001"}}
	msgs := []ResponseMessage{
		{Header: h, Type: "PingResponse", OK: OK},
		{Header: h, Type: "ErrorResponse", RequestType: ReqActivateTask, Error: &ErrorInfo{Code: CodeXIDExists, Description: "<" + xidA + "> & more"}},
		{Header: h, Type: "GetTaskDetailsResponse", Task: &task},
		{Header: h, Type: "GetDestinationDetailsResponse", Destination: &dd[0]},
		{Header: h, Type: "GetAllDetailsResponse", NEStatus: "OK", Tasks: []Task{task}, Destinations: dd},
		{Header: h, Type: "GetAllTaskDetailsResponse", Tasks: []Task{task}},
		{Header: h, Type: "GetAllDestinationDetailsResponse", Destinations: dd},
		{Header: h, Type: "GetNEStatusResponse", NEStatus: "OK"},
		{Header: h, Type: "ListAllDetailsResponse", XIDs: []string{xidA, xidB}, DIDs: []string{didBoth}},
	}
	doc, err := EncodeResponse(msgs...)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeResponse(doc)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "responses", d.Responses, msgs)
	tle := EncodeTopLevelError(h)
	td, err := DecodeResponse(tle)
	if err != nil || td.TopLevelError == nil {
		t.Fatalf("top-level error: %+v, %v", td, err)
	}
	h.TransactionID = ""
	mustEqual(t, "top-level header", *td.TopLevelError, h)
	chk := &xsdCheck{}
	chk.add("responses", doc)
	chk.add("top-level", tle)
	chk.validate(t)
}

// TestExpireTasks: implicitDeactivationAllowed tasks are deactivated once
// every warrant's EndTime has passed; others stay.
func TestExpireTasks(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	mk := func(xid string, implicit bool, ends ...time.Time) Task {
		tk := emailTask(xid, "x@example.com", didBoth)
		tk.ImplicitDeactivationAllowed = implicit
		tk.Mediation = nil
		for i, en := range ends {
			tk.Mediation = append(tk.Mediation, MediationDetails{LIID: fmt.Sprintf("L%d", i), DeliveryType: HI2andHI3, EndTime: en})
		}
		return tk
	}
	const (
		xidExpire  = "e0000000-0000-4000-8000-000000000001"
		xidNoFlag  = "e0000000-0000-4000-8000-000000000002"
		xidOpenEnd = "e0000000-0000-4000-8000-000000000003"
		xidLater   = "e0000000-0000-4000-8000-000000000004"
		xidNoMed   = "e0000000-0000-4000-8000-000000000005"
	)
	for _, r := range []Request{
		&CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.1:5000")},
		&ActivateTaskRequest{Task: mk(xidExpire, true, end, end.Add(-time.Hour))},
		&ActivateTaskRequest{Task: mk(xidNoFlag, false, end)},
		&ActivateTaskRequest{Task: mk(xidOpenEnd, true, end, time.Time{})},
		&ActivateTaskRequest{Task: mk(xidLater, true, end.Add(time.Second))},
		&ActivateTaskRequest{Task: mk(xidNoMed, true)},
	} {
		if m := e.reg.Apply(ctx, "test", r); m.Error != nil {
			t.Fatalf("%s: %+v", r.Type(), m.Error)
		}
	}
	var got []Change
	cancel := e.reg.Subscribe(func(c Change) { got = append(got, c) })
	defer cancel()
	if out := e.reg.ExpireTasks(end.Add(-time.Nanosecond)); len(out) != 0 {
		t.Fatalf("expired before the end: %v", out)
	}
	out := e.reg.ExpireTasks(end)
	if len(out) != 1 || out[0].XID != xidExpire {
		t.Fatalf("expired %v, want only %s", out, xidExpire)
	}
	if len(got) != 1 || got[0].Kind != TaskDeactivated || !got[0].Implicit || got[0].Task.XID != xidExpire {
		t.Fatalf("changes = %+v", got)
	}
	if _, ok := e.reg.Task(xidExpire); ok {
		t.Error("expired task still in the registry")
	}
	a := e.lastAudit(t)
	if a.Operation != AuditImplicitDeactivation || a.XID != xidExpire || a.Result != "ok" || a.Principal != "system" {
		t.Errorf("audit = %+v", a.AuditRecord)
	}
	e.reopen(t)
	if _, ok := e.reg.Task(xidExpire); ok {
		t.Error("expired task back after reopen")
	}
	if out := e.reg.ExpireTasks(end.Add(2 * time.Second)); len(out) != 1 || out[0].XID != xidLater {
		t.Errorf("later expiry = %v", out)
	}
	if n := len(e.reg.Tasks()); n != 3 {
		t.Errorf("%d tasks left, want 3", n)
	}
}

// TestSubscribeWithSnapshot: a subscriber joining while tasks are being
// activated sees each task exactly once, in the snapshot or as a change.
func TestSubscribeWithSnapshot(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if m := e.reg.Apply(ctx, "test", &CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.1:5000")}); m.Error != nil {
		t.Fatal(m.Error)
	}
	const n = 40
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			xid := fmt.Sprintf("f0000000-0000-4000-8000-%012d", i)
			if m := e.reg.Apply(ctx, "test", &ActivateTaskRequest{Task: emailTask(xid, "x@example.com", didBoth)}); m.Error != nil {
				t.Error(m.Error)
			}
		}()
	}
	var mu sync.Mutex
	var seen []string
	close(start)
	tasks, _, cancel := e.reg.SubscribeWithSnapshot(func(c Change) {
		mu.Lock()
		defer mu.Unlock()
		if c.Kind == TaskActivated {
			seen = append(seen, c.Task.XID)
		}
	})
	defer cancel()
	wg.Wait()
	for _, tk := range tasks {
		seen = append(seen, tk.XID)
	}
	slices.Sort(seen)
	if len(seen) != n || len(slices.Compact(slices.Clone(seen))) != n {
		t.Fatalf("saw %d tasks (%d distinct), want %d", len(seen), len(slices.Compact(slices.Clone(seen))), n)
	}
	t.Logf("%d tasks in the snapshot, %d as changes", len(tasks), n-len(tasks))
}

// TestSubscriberBeforeResponse: the subscriber has run by the time Apply
// returns (so the task is in force, or stopped, when the ADMF is told),
// and a panicking subscriber does not break the registry.
func TestSubscriberBeforeResponse(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	var active map[string]bool = map[string]bool{}
	cancel := e.reg.Subscribe(func(c Change) {
		switch c.Kind {
		case TaskActivated:
			active[c.Task.XID] = true
		case TaskDeactivated:
			delete(active, c.Task.XID)
		}
	})
	defer cancel()
	cancelPanic := e.reg.Subscribe(func(Change) { panic("subscriber bug") })
	e.reg.Apply(ctx, "test", &CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.1:5000")})
	if m := e.reg.Apply(ctx, "test", &ActivateTaskRequest{Task: emailTask(xidA, "a@example.com", didBoth)}); m.Error != nil {
		t.Fatal(m.Error)
	}
	if !active[xidA] {
		t.Fatal("task not in force when ActivateTask returned")
	}
	cancelPanic()
	if m := e.reg.Apply(ctx, "test", &DeactivateTaskRequest{XID: xidA}); m.Error != nil {
		t.Fatal(m.Error)
	}
	if active[xidA] {
		t.Fatal("task still in force when DeactivateTask returned")
	}
	cancel()
	e.reg.Apply(ctx, "test", &ActivateTaskRequest{Task: emailTask(xidB, "b@example.com", didBoth)})
	if active[xidB] {
		t.Error("cancelled subscriber still called")
	}
}

// TestDeactivateAll deactivates every task in one transaction and notifies
// each; then RemoveAllDestinations succeeds.
func TestDeactivateAll(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.reg.Apply(ctx, "test", &CreateDestinationRequest{Destination: dest(didBoth, X2andX3, "192.0.2.1:5000")})
	e.reg.Apply(ctx, "test", &ActivateTaskRequest{Task: emailTask(xidA, "a@example.com", didBoth)})
	e.reg.Apply(ctx, "test", &ActivateTaskRequest{Task: emailTask(xidB, "b@example.com", didBoth)})
	if m := e.reg.Apply(ctx, "test", &RemoveAllDestinationsRequest{}); m.Error == nil || m.Error.Code != CodeDestinationInUse {
		t.Fatalf("remove all with tasks: %+v", m.Error)
	}
	var got []string
	e.reg.Subscribe(func(c Change) { got = append(got, c.Kind.String()+" "+c.Task.XID) })
	if m := e.reg.Apply(ctx, "test", &DeactivateAllTasksRequest{}); m.Type != "DeactivateAllTasksResponse" {
		t.Fatalf("%+v", m)
	}
	mustEqual(t, "changes", got, []string{"TaskDeactivated " + xidA, "TaskDeactivated " + xidB})
	if m := e.reg.Apply(ctx, "test", &RemoveAllDestinationsRequest{}); m.Type != "RemoveAllDestinationsResponse" {
		t.Fatalf("%+v", m)
	}
	e.reopen(t)
	if len(e.reg.Tasks()) != 0 || len(e.reg.Destinations()) != 0 {
		t.Errorf("after reopen: %v %v", e.reg.Tasks(), e.reg.Destinations())
	}
}
