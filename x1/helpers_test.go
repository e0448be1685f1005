package x1

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"rcds/internal/testtools"
	"rcds/store"
)

// fixedClock returns a clock that advances one millisecond per call, from
// a fixed start, so golden files are stable.
func fixedClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

type testEnv struct {
	dir string
	db  *store.DB
	reg *Registry
}

func newEnv(t testing.TB, opts ...Option) *testEnv {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, err := OpenRegistry(db, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{dir: dir, db: db, reg: reg}
}

// reopen closes the store and opens the registry again from the file.
func (e *testEnv) reopen(t testing.TB, opts ...Option) {
	t.Helper()
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, err := OpenRegistry(db, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	e.db, e.reg = db, reg
}

// snapshot is the registry as the store holds it (both the memory view and
// the raw bucket contents, to catch a change that reached only one).
type snapshot struct {
	Tasks        []Task
	Destinations []Destination
	Raw          map[string]string
}

func (e *testEnv) snapshot(t testing.TB) snapshot {
	t.Helper()
	s := snapshot{Tasks: e.reg.Tasks(), Destinations: e.reg.Destinations(), Raw: map[string]string{}}
	for _, b := range []string{BucketTasks, BucketDestinations} {
		err := e.db.ForEach(b, func(k string, v []byte) error {
			s.Raw[b+"/"+k] = string(v)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (e *testEnv) auditLen(t testing.TB) int {
	t.Helper()
	a, err := ReadAudit(e.db, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(a)
}

func (e *testEnv) lastAudit(t testing.TB) AuditEntry {
	t.Helper()
	a, err := ReadAudit(e.db, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) == 0 {
		t.Fatal("audit log is empty")
	}
	return a[len(a)-1]
}

// outcome is what a response document says, in the terms the fixtures
// are compared in: the response type and, for errors, the code.
type outcome struct {
	Type string    // "TopLevelError" for an X1TopLevelErrorResponse
	Code ErrorCode // for ErrorResponse
}

func (o outcome) String() string {
	if o.Code != 0 {
		return fmt.Sprintf("%s %d", o.Type, o.Code)
	}
	return o.Type
}

func outcomes(t testing.TB, doc []byte) ([]outcome, Document) {
	t.Helper()
	d, err := DecodeResponse(doc)
	if err != nil {
		t.Fatalf("our own response does not decode: %v\n%s", err, doc)
	}
	if d.TopLevelError != nil {
		return []outcome{{Type: "TopLevelError"}}, d
	}
	var out []outcome
	for _, m := range d.Responses {
		o := outcome{Type: m.Type}
		if m.Error != nil {
			o.Code = m.Error.Code
		}
		out = append(out, o)
	}
	return out, d
}

// xsdCheck collects response documents and validates them all against
// TS_103_221_01.xsd with ../shared/tools/x1-validate in one run.
type xsdCheck struct {
	mu    sync.Mutex
	names []string
	docs  [][]byte
}

func (c *xsdCheck) add(name string, doc []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.names = append(c.names, name)
	c.docs = append(c.docs, bytes.Clone(doc))
}

// validate runs the validator in a subtest (skipped, or failed under
// RCDS_REQUIRE_TOOLS=1, when xmllint is missing).
func (c *xsdCheck) validate(t *testing.T) {
	t.Helper()
	t.Run("x1-validate", func(t *testing.T) {
		if len(c.docs) == 0 {
			t.Fatal("no documents collected")
		}
		tool := testtools.Tool(t, "x1-validate", "xmllint")
		dir := t.TempDir()
		var files []string
		for i, d := range c.docs {
			f := filepath.Join(dir, fmt.Sprintf("%03d-%s.xml", i, sanitize(c.names[i])))
			if err := os.WriteFile(f, d, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		validateFiles(t, tool, files, nil)
	})
}

// validateFiles runs x1-validate on files and checks that exactly the
// files in wantInvalid are reported invalid.
func validateFiles(t *testing.T, tool string, files []string, wantInvalid map[string]bool) {
	t.Helper()
	out, _ := exec.Command(tool, files...).CombinedOutput()
	seen := 0
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range files {
			if !strings.HasPrefix(line, f+": ") {
				continue
			}
			seen++
			valid := line == f+": valid"
			if valid == wantInvalid[f] {
				t.Errorf("x1-validate: %s (expected valid=%v)", line, !wantInvalid[f])
			}
		}
	}
	if seen != len(files) {
		t.Fatalf("x1-validate reported on %d of %d files:\n%s", seen, len(files), out)
	}
	t.Logf("x1-validate checked %d documents", len(files))
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// handle posts doc to the registry and records the answer for validation.
func (e *testEnv) handle(t testing.TB, chk *xsdCheck, name string, doc []byte) ([]outcome, Document, int) {
	t.Helper()
	resp, status := e.reg.Handle(context.Background(), "test:"+name, doc)
	if chk != nil {
		chk.add(name, resp)
	}
	o, d := outcomes(t, resp)
	return o, d, status
}

// encode builds a request document with a fixed header.
func encode(t testing.TB, reqs ...Request) []byte {
	t.Helper()
	for i, r := range reqs {
		h := r.Head()
		if h.ADMFIdentifier == "" {
			h.ADMFIdentifier = "admf-test"
		}
		if h.NEIdentifier == "" {
			h.NEIdentifier = "ne-test"
		}
		if h.Timestamp.IsZero() {
			h.Timestamp = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		}
		if h.Version == "" {
			h.Version = Version
		}
		if h.TransactionID == "" {
			h.TransactionID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		}
	}
	doc, err := EncodeRequest(reqs...)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mustEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// Test identities.
const (
	didHI2  = "d1000000-0000-4000-8000-000000000001"
	didHI3  = "d1000000-0000-4000-8000-000000000002"
	didBoth = "d1000000-0000-4000-8000-000000000003"
	xidA    = "a1000000-0000-4000-8000-00000000000a"
	xidB    = "a1000000-0000-4000-8000-00000000000b"
)

func dest(did string, dt DeliveryType, addr string) Destination {
	return Destination{DID: did, DeliveryType: dt, Address: addr, FriendlyName: "lemf " + string(dt)}
}

func emailTask(xid, passport string, dids ...string) Task {
	return Task{
		XID:          xid,
		Targets:      []Target{{Kind: TargetEmail, Value: passport}},
		DeliveryType: X2andX3,
		DIDs:         dids,
		Mediation: []MediationDetails{{
			LIID:         "LIID-" + xid[len(xid)-4:],
			DeliveryType: HI2andHI3,
			StartTime:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			EndTime:      time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		}},
		ImplicitDeactivationAllowed: true,
	}
}
