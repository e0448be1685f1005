package x1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"rcds/store"
)

// Buckets of the store holding the registry (JSON values keyed by XID/DID).
const (
	BucketTasks        = "x1.tasks"
	BucketDestinations = "x1.destinations"
)

// Registry is the task and destination registry of one NE. It validates
// X1 requests, persists tasks and destinations in the store (each change
// together with its audit entry, in one transaction), and tells
// subscribers about every committed change, synchronously and in commit
// order, before the X1 response is sent. Reads are safe from any
// goroutine, including from a subscriber's callback.
type Registry struct {
	db   *store.DB
	log  *slog.Logger
	neID string
	now  func() time.Time

	opMu sync.Mutex // serialises changes and their notifications

	mu    sync.RWMutex // guards tasks and dests
	tasks map[string]Task
	dests map[string]Destination

	subMu sync.Mutex
	subs  []*subscriber

	lastKeepalive atomic.Int64 // UnixNano of the last KeepaliveRequest
}

type subscriber struct {
	fn   func(Change)
	dead atomic.Bool
}

// Option configures a Registry.
type Option func(*Registry)

// WithNEIdentifier sets the neIdentifier written in top-level error
// responses (other responses echo the request's neIdentifier).
func WithNEIdentifier(id string) Option { return func(r *Registry) { r.neID = id } }

// WithClock replaces time.Now for timestamps (tests).
func WithClock(now func() time.Time) Option { return func(r *Registry) { r.now = now } }

// OpenRegistry loads the registry from db.
func OpenRegistry(db *store.DB, logger *slog.Logger, opts ...Option) (*Registry, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Registry{
		db:    db,
		log:   logger,
		neID:  "rcds",
		now:   time.Now,
		tasks: map[string]Task{},
		dests: map[string]Destination{},
	}
	for _, o := range opts {
		o(r)
	}
	err := db.ForEach(BucketTasks, func(k string, v []byte) error {
		var t Task
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("task %q: %w", k, err)
		}
		r.tasks[k] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("x1: open registry: %w", err)
	}
	err = db.ForEach(BucketDestinations, func(k string, v []byte) error {
		var d Destination
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("destination %q: %w", k, err)
		}
		r.dests[k] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("x1: open registry: %w", err)
	}
	logger.Info("X1 registry loaded", "tasks", len(r.tasks), "destinations", len(r.dests))
	return r, nil
}

// NEIdentifier is the NE's configured identifier.
func (r *Registry) NEIdentifier() string { return r.neID }

// Tasks returns all tasks, ordered by XID.
func (r *Registry) Tasks() []Task {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Task, 0, len(r.tasks))
	for _, t := range r.tasks {
		out = append(out, cloneTask(t))
	}
	slices.SortFunc(out, func(a, b Task) int { return strings.Compare(a.XID, b.XID) })
	return out
}

// Task returns the task xid.
func (r *Registry) Task(xid string) (Task, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.tasks[xid]
	return cloneTask(t), ok
}

// Destinations returns all destinations, ordered by DID.
func (r *Registry) Destinations() []Destination {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Destination, 0, len(r.dests))
	for _, d := range r.dests {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Destination) int { return strings.Compare(a.DID, b.DID) })
	return out
}

// Destination returns the destination did.
func (r *Registry) Destination(did string) (Destination, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.dests[did]
	return d, ok
}

// LastKeepalive is when the last KeepaliveRequest was answered (zero if
// none since start).
func (r *Registry) LastKeepalive() time.Time {
	n := r.lastKeepalive.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Subscribe registers fn to be called with every change committed from now
// on. fn runs synchronously in the goroutine that made the change, after
// the change is on disk and visible to Tasks/Task, in commit order, before
// the X1 response is sent — so a task is in force, or stopped, by the time
// the ADMF hears that it is. fn may read the registry but must not change
// it (that would deadlock) and should return quickly. cancel stops
// further calls (a call already running completes).
//
// A subscriber that needs the current state and every change after it,
// with nothing missed or seen twice, uses SubscribeWithSnapshot.
func (r *Registry) Subscribe(fn func(Change)) (cancel func()) {
	s := &subscriber{fn: fn}
	r.subMu.Lock()
	r.subs = append(r.subs, s)
	r.subMu.Unlock()
	return func() {
		s.dead.Store(true)
		r.subMu.Lock()
		defer r.subMu.Unlock()
		r.subs = slices.DeleteFunc(r.subs, func(x *subscriber) bool { return x == s })
	}
}

// SubscribeWithSnapshot atomically takes the current tasks and
// destinations and subscribes fn: every change committed after the
// snapshot is delivered to fn, and none before it.
func (r *Registry) SubscribeWithSnapshot(fn func(Change)) (tasks []Task, dests []Destination, cancel func()) {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	return r.Tasks(), r.Destinations(), r.Subscribe(fn)
}

func (r *Registry) notify(changes []Change) {
	if len(changes) == 0 {
		return
	}
	r.subMu.Lock()
	subs := slices.Clone(r.subs)
	r.subMu.Unlock()
	for _, c := range changes {
		for _, s := range subs {
			if !s.dead.Load() {
				r.call(s, c)
			}
		}
	}
}

func (r *Registry) call(s *subscriber, c Change) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("X1 registry subscriber panicked", "change", c.Kind.String(), "panic", fmt.Sprint(p))
		}
	}()
	s.fn(c)
}

// Apply carries out one X1 request on behalf of principal and returns the
// response message. The change (if any) and its audit entry are written in
// one transaction; on any error the registry is unchanged and the refusal
// is audited.
func (r *Registry) Apply(ctx context.Context, principal string, req Request) ResponseMessage {
	h := *req.Head()
	rec := AuditRecord{
		Principal:     principal,
		Operation:     string(req.Type()),
		TransactionID: h.TransactionID,
		ADMF:          h.ADMFIdentifier,
	}
	resp := r.responseFor(h)
	resp.Type = responseTypeFor(req.Type())
	if err := ctx.Err(); err != nil {
		return r.refuse(rec, req.Type(), resp, fmt.Errorf("x1: %s: %w", req.Type(), err))
	}
	var err error
	switch q := req.(type) {
	case *ActivateTaskRequest:
		rec.XID = q.Task.XID
		err = r.activateTask(rec, q.Task)
	case *ModifyTaskRequest:
		rec.XID = q.Task.XID
		err = r.modifyTask(rec, q.Task)
	case *DeactivateTaskRequest:
		rec.XID = q.XID
		err = r.deactivateTask(rec, q.XID)
	case *DeactivateAllTasksRequest:
		err = r.deactivateAllTasks(rec)
	case *CreateDestinationRequest:
		rec.DID = q.Destination.DID
		err = r.createDestination(rec, q.Destination)
	case *ModifyDestinationRequest:
		rec.DID = q.Destination.DID
		err = r.modifyDestination(rec, q.Destination)
	case *RemoveDestinationRequest:
		rec.DID = q.DID
		err = r.removeDestination(rec, q.DID)
	case *RemoveAllDestinationsRequest:
		err = r.removeAllDestinations(rec)
	case *GetTaskDetailsRequest:
		rec.XID = q.XID
		t, ok := r.Task(q.XID)
		if !ok {
			err = errorf(ErrXIDNotFound, "%s", q.XID)
			break
		}
		resp.Task = &t
		err = r.auditOK(rec)
	case *GetDestinationDetailsRequest:
		rec.DID = q.DID
		d, ok := r.Destination(q.DID)
		if !ok {
			err = errorf(ErrDIDNotFound, "%s", q.DID)
			break
		}
		resp.Destination = &d
		err = r.auditOK(rec)
	case *GetNEStatusRequest:
		resp.NEStatus = "OK"
		err = r.auditOK(rec)
	case *GetAllDetailsRequest:
		resp.NEStatus = "OK"
		resp.Tasks, resp.Destinations = r.Tasks(), r.Destinations()
		err = r.auditOK(rec)
	case *GetAllTaskDetailsRequest:
		resp.Tasks = r.Tasks()
		err = r.auditOK(rec)
	case *GetAllDestinationDetailsRequest:
		resp.Destinations = r.Destinations()
		err = r.auditOK(rec)
	case *ListAllDetailsRequest:
		resp.XIDs, resp.DIDs = []string{}, []string{}
		for _, t := range r.Tasks() {
			resp.XIDs = append(resp.XIDs, t.XID)
		}
		for _, d := range r.Destinations() {
			resp.DIDs = append(resp.DIDs, d.DID)
		}
		err = r.auditOK(rec)
	case *PingRequest:
		err = r.auditOK(rec)
	case *KeepaliveRequest:
		r.lastKeepalive.Store(r.now().UnixNano())
		err = r.auditOK(rec)
	default:
		err = errorf(ErrUnsupportedRequest, "%s is not supported by this NE", req.Type())
	}
	if err != nil {
		return r.refuse(rec, req.Type(), resp, err)
	}
	lvl := slog.LevelDebug
	if changesRegistry(req.Type()) {
		lvl = slog.LevelInfo
	}
	r.log.Log(ctx, lvl, "X1 request applied", "op", rec.Operation, "principal", rec.Principal, "xid", rec.XID, "did", rec.DID)
	resp.OK = OK
	return resp
}

// responseFor starts a response to a request with header h.
func (r *Registry) responseFor(h Header) ResponseMessage {
	out := ResponseMessage{Header: Header{
		ADMFIdentifier: h.ADMFIdentifier,
		NEIdentifier:   h.NEIdentifier,
		Timestamp:      r.now(),
		Version:        h.Version,
		TransactionID:  h.TransactionID,
	}}
	if !IsVersion(out.Version) {
		out.Version = Version
	}
	if out.NEIdentifier == "" {
		out.NEIdentifier = r.neID
	}
	return out
}

// refuse turns err into an ErrorResponse and audits the refusal.
func (r *Registry) refuse(rec AuditRecord, rt RequestType, resp ResponseMessage, err error) ResponseMessage {
	code, desc := CodeFor(rt, err)
	rec.Result, rec.Code, rec.Description = "error", int(code), desc
	if aerr := RecordAudit(r.db, rec); aerr != nil {
		r.log.Error("X1 audit failed", "op", rec.Operation, "err", aerr)
	}
	r.log.Info("X1 request refused", "op", rec.Operation, "principal", rec.Principal,
		"xid", rec.XID, "did", rec.DID, "code", int(code), "description", desc)
	resp.Type = "ErrorResponse"
	resp.RequestType = rt
	resp.Error = &ErrorInfo{Code: code, Description: desc}
	resp.OK = ""
	resp.Task, resp.Destination, resp.Tasks, resp.Destinations, resp.XIDs, resp.DIDs, resp.NEStatus = nil, nil, nil, nil, nil, nil, ""
	return resp
}

func (r *Registry) auditOK(rec AuditRecord) error {
	rec.Result = "ok"
	if err := RecordAudit(r.db, rec); err != nil {
		return fmt.Errorf("x1: %s: %w", rec.Operation, err)
	}
	return nil
}

// commit writes ops and rec in one transaction, then applies the change in
// memory and notifies subscribers. The caller holds opMu.
func (r *Registry) commit(rec AuditRecord, ops []store.Op, apply func(), changes []Change) error {
	rec.Result = "ok"
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("x1: %s: %w", rec.Operation, err)
	}
	if _, err := r.db.ApplyAudited(data, ops...); err != nil {
		return fmt.Errorf("x1: %s: %w", rec.Operation, err)
	}
	r.mu.Lock()
	apply()
	r.mu.Unlock()
	r.notify(changes)
	return nil
}

func taskOp(t Task) (store.Op, error) {
	v, err := json.Marshal(t)
	if err != nil {
		return store.Op{}, fmt.Errorf("x1: encode task %s: %w", t.XID, err)
	}
	return store.Op{Bucket: BucketTasks, Key: t.XID, Value: v}, nil
}

func destOp(d Destination) (store.Op, error) {
	v, err := json.Marshal(d)
	if err != nil {
		return store.Op{}, fmt.Errorf("x1: encode destination %s: %w", d.DID, err)
	}
	return store.Op{Bucket: BucketDestinations, Key: d.DID, Value: v}, nil
}

func (r *Registry) activateTask(rec AuditRecord, t Task) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	if _, ok := r.tasks[t.XID]; ok {
		return errorf(ErrXIDExists, "%s", t.XID)
	}
	t, err := checkTask(t, r.dests)
	if err != nil {
		return err
	}
	t.Activated, t.Modified, t.Modifications = r.now().UTC(), time.Time{}, 0
	op, err := taskOp(t)
	if err != nil {
		return err
	}
	nt := cloneTask(t)
	return r.commit(rec, []store.Op{op}, func() { r.tasks[t.XID] = t },
		[]Change{{Kind: TaskActivated, Task: &nt}})
}

func (r *Registry) modifyTask(rec AuditRecord, t Task) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	old, ok := r.tasks[t.XID]
	if !ok {
		return errorf(ErrXIDNotFound, "%s", t.XID)
	}
	t, err := checkTask(t, r.dests)
	if err != nil {
		return err
	}
	t.Activated, t.Modified, t.Modifications = old.Activated, r.now().UTC(), old.Modifications+1
	op, err := taskOp(t)
	if err != nil {
		return err
	}
	nt, ot := cloneTask(t), cloneTask(old)
	return r.commit(rec, []store.Op{op}, func() { r.tasks[t.XID] = t },
		[]Change{{Kind: TaskModified, Task: &nt, OldTask: &ot}})
}

func (r *Registry) deactivateTask(rec AuditRecord, xid string) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	old, ok := r.tasks[xid]
	if !ok {
		return errorf(ErrXIDNotFound, "%s", xid)
	}
	ot := cloneTask(old)
	return r.commit(rec, []store.Op{{Bucket: BucketTasks, Key: xid}}, func() { delete(r.tasks, xid) },
		[]Change{{Kind: TaskDeactivated, Task: &ot}})
}

func (r *Registry) deactivateAllTasks(rec AuditRecord) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	all := r.Tasks()
	ops := make([]store.Op, 0, len(all))
	changes := make([]Change, 0, len(all))
	for i := range all {
		ops = append(ops, store.Op{Bucket: BucketTasks, Key: all[i].XID})
		changes = append(changes, Change{Kind: TaskDeactivated, Task: &all[i]})
	}
	rec.Description = fmt.Sprintf("%d tasks deactivated", len(all))
	return r.commit(rec, ops, func() { clear(r.tasks) }, changes)
}

func (r *Registry) createDestination(rec AuditRecord, d Destination) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	if _, ok := r.dests[d.DID]; ok {
		return errorf(ErrDIDExists, "%s", d.DID)
	}
	if err := checkDestination(d); err != nil {
		return err
	}
	op, err := destOp(d)
	if err != nil {
		return err
	}
	nd := d
	return r.commit(rec, []store.Op{op}, func() { r.dests[d.DID] = d },
		[]Change{{Kind: DestinationCreated, Destination: &nd}})
}

func (r *Registry) modifyDestination(rec AuditRecord, d Destination) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	old, ok := r.dests[d.DID]
	if !ok {
		return errorf(ErrDIDNotFound, "%s", d.DID)
	}
	if err := checkDestination(d); err != nil {
		return err
	}
	// The tasks using it must still be deliverable with the new delivery type.
	dests := maps.Clone(r.dests)
	dests[d.DID] = d
	for _, t := range r.Tasks() {
		if slices.Contains(taskDIDs(t), d.DID) {
			if err := checkCoverage(t, dests); err != nil {
				return errorf(ErrDeliveryCombo, "task %s would no longer be deliverable: %v", t.XID, err)
			}
		}
	}
	op, err := destOp(d)
	if err != nil {
		return err
	}
	nd, od := d, old
	return r.commit(rec, []store.Op{op}, func() { r.dests[d.DID] = d },
		[]Change{{Kind: DestinationModified, Destination: &nd, OldDestination: &od}})
}

func (r *Registry) removeDestination(rec AuditRecord, did string) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	old, ok := r.dests[did]
	if !ok {
		return errorf(ErrDIDNotFound, "%s", did)
	}
	if users := r.usersOf(did); len(users) > 0 {
		return errorf(ErrDestinationInUse, "%s", strings.Join(users, " "))
	}
	od := old
	return r.commit(rec, []store.Op{{Bucket: BucketDestinations, Key: did}}, func() { delete(r.dests, did) },
		[]Change{{Kind: DestinationRemoved, Destination: &od}})
}

func (r *Registry) removeAllDestinations(rec AuditRecord) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	var users []string
	for _, t := range r.Tasks() {
		if len(taskDIDs(t)) > 0 {
			users = append(users, t.XID)
		}
	}
	if len(users) > 0 {
		return errorf(ErrDestinationInUse, "%s", strings.Join(users, " "))
	}
	all := r.Destinations()
	ops := make([]store.Op, 0, len(all))
	changes := make([]Change, 0, len(all))
	for i := range all {
		ops = append(ops, store.Op{Bucket: BucketDestinations, Key: all[i].DID})
		changes = append(changes, Change{Kind: DestinationRemoved, Destination: &all[i]})
	}
	rec.Description = fmt.Sprintf("%d destinations removed", len(all))
	return r.commit(rec, ops, func() { clear(r.dests) }, changes)
}

// usersOf lists the XIDs of the tasks that deliver to did.
func (r *Registry) usersOf(did string) []string {
	var out []string
	for _, t := range r.Tasks() {
		if slices.Contains(taskDIDs(t), did) {
			out = append(out, t.XID)
		}
	}
	return out
}

// ExpireTasks deactivates the tasks whose warrant has ended at now (every
// mediationDetails has an EndTime at or before now) and whose
// implicitDeactivationAllowed is true. Each deactivation is audited
// (principal "system", operation ImplicitDeactivation), logged and
// notified (TaskDeactivated with Implicit set). It returns the tasks
// deactivated. Callers pass the clock that governs the run: wall time for
// a live NE, packet time for a capture replay.
func (r *Registry) ExpireTasks(now time.Time) []Task {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	var out []Task
	for _, t := range r.Tasks() {
		if !t.ImplicitDeactivationAllowed || !ended(t, now) {
			continue
		}
		rec := AuditRecord{Principal: "system", Operation: AuditImplicitDeactivation, XID: t.XID,
			Description: "EndTime passed at " + FormatTimestamp(now)}
		ot := t
		err := r.commit(rec, []store.Op{{Bucket: BucketTasks, Key: t.XID}}, func() { delete(r.tasks, t.XID) },
			[]Change{{Kind: TaskDeactivated, Task: &ot, Implicit: true}})
		if err != nil {
			r.log.Error("X1 implicit deactivation failed", "xid", t.XID, "err", err)
			continue
		}
		r.log.Info("X1 task implicitly deactivated (EndTime passed)", "xid", t.XID)
		out = append(out, t)
	}
	return out
}

// ended reports whether every warrant of t has an EndTime at or before now.
func ended(t Task, now time.Time) bool {
	if len(t.Mediation) == 0 {
		return false
	}
	for _, m := range t.Mediation {
		if m.EndTime.IsZero() || now.Before(m.EndTime) {
			return false
		}
	}
	return true
}

// checkTask validates a task against the registry's destinations and fills
// in the mediationDetails DIDs inherited from the task. The order of the
// checks decides which error a request with several faults gets: target
// types (3000/3001), DIDs (2040), warrants (3000/3001), delivery (3040).
func checkTask(t Task, dests map[string]Destination) (Task, error) {
	t = cloneTask(t)
	if len(t.Targets) == 0 {
		return t, errorf(ErrInvalidTask, "no targetIdentifier")
	}
	for _, tg := range t.Targets {
		switch tg.Kind {
		case TargetEmail, TargetIPv4, TargetIPv6, TargetIPv4CIDR, TargetIPv6CIDR:
		default:
			return t, errorf(ErrUnsupportedTarget, "unsupported target identifier type %s (supported: emailAddress, ipv4Address, ipv6Address, ipv4Cidr, ipv6Cidr)", tg.Kind)
		}
	}
	for i, a := range t.Targets {
		for _, b := range t.Targets[:i] {
			if a.Kind == b.Kind && strings.EqualFold(a.Value, b.Value) {
				return t, errorf(ErrInvalidTask, "targetIdentifier %d repeats an earlier one", i+1)
			}
		}
	}
	switch t.DeliveryType {
	case X2Only, X3Only, X2andX3:
	default:
		return t, errorf(ErrInvalidTask, "deliveryType %q is not X2Only, X3Only or X2andX3", t.DeliveryType)
	}
	if err := checkDIDs(t.DIDs, dests); err != nil {
		return t, err
	}
	if t.DIDs == nil {
		t.DIDs = []string{}
	}
	liids := map[string]bool{}
	for i := range t.Mediation {
		m := &t.Mediation[i]
		if n := len(m.LIID); n == 0 || n > 25 {
			return t, errorf(ErrInvalidTask, "LIID %q has %d characters; 1 to 25 are allowed", clip(m.LIID), n)
		}
		if liids[m.LIID] {
			return t, errorf(ErrInvalidTask, "LIID %s appears in two mediationDetails", m.LIID)
		}
		liids[m.LIID] = true
		switch m.DeliveryType {
		case HI2Only, HI3Only, HI2andHI3:
		default:
			return t, errorf(ErrInvalidTask, "mediationDetails deliveryType %q is not HI2Only, HI3Only or HI2andHI3", m.DeliveryType)
		}
		if !m.StartTime.IsZero() && !m.EndTime.IsZero() && !m.StartTime.Before(m.EndTime) {
			return t, errorf(ErrInvalidTask, "LIID %s: EndTime is not after StartTime", m.LIID)
		}
		if len(m.DIDs) == 0 {
			m.DIDs = slices.Clone(t.DIDs)
		} else if err := checkDIDs(m.DIDs, dests); err != nil {
			return t, err
		}
		m.StartTime, m.EndTime = utc(m.StartTime), utc(m.EndTime)
	}
	if err := checkCoverage(t, dests); err != nil {
		return t, errorf(ErrDeliveryCombo, "%v", err)
	}
	return t, nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

func checkDIDs(dids []string, dests map[string]Destination) error {
	for i, d := range dids {
		if slices.Contains(dids[:i], d) {
			return errorf(ErrInvalidTask, "dId %s is listed twice", d)
		}
		if _, ok := dests[d]; !ok {
			return errorf(ErrDIDNotFound, "%s", d)
		}
	}
	return nil
}

// checkCoverage checks that the destinations of t can take what t
// delivers: the task's deliveryType against all its destinations, and each
// warrant's HI delivery type against the task's deliveryType and the
// warrant's own destinations (HI2 needs an X2 destination, HI3 an X3 one).
func checkCoverage(t Task, dests map[string]Destination) error {
	if err := covers(taskDIDs(t), dests, t.DeliveryType.HasX2(), t.DeliveryType.HasX3()); err != nil {
		return fmt.Errorf("deliveryType %s: %w", t.DeliveryType, err)
	}
	for _, m := range t.Mediation {
		hi2 := m.DeliveryType == HI2Only || m.DeliveryType == HI2andHI3
		hi3 := m.DeliveryType == HI3Only || m.DeliveryType == HI2andHI3
		if hi2 && !t.DeliveryType.HasX2() || hi3 && !t.DeliveryType.HasX3() {
			return fmt.Errorf("LIID %s asks for %s but the task's deliveryType is %s", m.LIID, m.DeliveryType, t.DeliveryType)
		}
		if err := covers(m.DIDs, dests, hi2, hi3); err != nil {
			return fmt.Errorf("LIID %s (%s): %w", m.LIID, m.DeliveryType, err)
		}
	}
	return nil
}

func covers(dids []string, dests map[string]Destination, x2, x3 bool) error {
	var has2, has3 bool
	for _, id := range dids {
		d := dests[id]
		has2 = has2 || d.DeliveryType.HasX2()
		has3 = has3 || d.DeliveryType.HasX3()
	}
	switch {
	case x2 && !has2:
		return errors.New("no destination takes X2 (IRI)")
	case x3 && !has3:
		return errors.New("no destination takes X3 (content)")
	}
	return nil
}

// taskDIDs is every DID a task delivers to (task and warrant lists).
func taskDIDs(t Task) []string {
	out := slices.Clone(t.DIDs)
	for _, m := range t.Mediation {
		for _, d := range m.DIDs {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

func checkDestination(d Destination) error {
	switch d.DeliveryType {
	case X2Only, X3Only, X2andX3:
	default:
		return errorf(ErrInvalidDestination, "deliveryType %q is not X2Only, X3Only or X2andX3", d.DeliveryType)
	}
	if d.Address == "" {
		return errorf(ErrInvalidDestination, "no delivery address")
	}
	return nil
}

func cloneTask(t Task) Task {
	t.Targets = slices.Clone(t.Targets)
	t.DIDs = slices.Clone(t.DIDs)
	t.ServiceTypes = slices.Clone(t.ServiceTypes)
	t.Mediation = slices.Clone(t.Mediation)
	for i := range t.Mediation {
		t.Mediation[i].DIDs = slices.Clone(t.Mediation[i].DIDs)
	}
	return t
}
