package store

import (
	"errors"
	"testing"
)

func TestApplyAudited(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Audit([]byte(`{"first":true}`)); err != nil {
		t.Fatal(err)
	}
	seq, err := db.ApplyAudited([]byte(`{"op":"put"}`),
		Op{Bucket: "b", Key: "k1", Value: []byte("v1")},
		Op{Bucket: "b", Key: "k2", Value: []byte("v2")},
	)
	if err != nil {
		t.Fatal(err)
	}
	if seq != 2 {
		t.Errorf("audit seq = %d, want 2", seq)
	}
	seq, err = db.ApplyAudited([]byte(`{"op":"delete"}`), Op{Bucket: "b", Key: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	if seq != 3 {
		t.Errorf("audit seq = %d, want 3", seq)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen: both the data and the audit entries survived.
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Get("b", "k1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("k1: err = %v, want ErrNotFound", err)
	}
	if v, err := db.Get("b", "k2"); err != nil || string(v) != "v2" {
		t.Errorf("k2 = %q, %v; want v2", v, err)
	}
	log, err := db.AuditLog(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"first":true}`, `{"op":"put"}`, `{"op":"delete"}`}
	if len(log) != len(want) {
		t.Fatalf("audit log has %d entries, want %d", len(log), len(want))
	}
	for i, e := range log {
		if e.Seq != uint64(i+1) || string(e.Data) != want[i] || e.Time.IsZero() {
			t.Errorf("entry %d = {%d %v %q}, want {%d <time> %q}", i, e.Seq, e.Time, e.Data, i+1, want[i])
		}
	}
}
