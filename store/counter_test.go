package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

func TestCountersNextAssign(t *testing.T) {
	_, w := openTestWriter(t, t.TempDir(), WriterOptions{})
	c, err := w.Counters("seq", 0)
	if err != nil {
		t.Fatal(err)
	}
	for want := uint64(0); want < 5; want++ {
		v, err := c.Next("a")
		if err != nil || v != want {
			t.Fatalf("Next(a) = %d, %v; want %d", v, err, want)
		}
	}
	if v, _ := c.Next("b"); v != 0 {
		t.Fatalf("Next(b) = %d, want 0", v)
	}
	v, isNew, err := c.Assign("map/x", "next")
	if err != nil || v != 0 || !isNew {
		t.Fatalf("Assign x = %d %v %v", v, isNew, err)
	}
	v, isNew, _ = c.Assign("map/y", "next")
	if v != 1 || !isNew {
		t.Fatalf("Assign y = %d %v", v, isNew)
	}
	v, isNew, _ = c.Assign("map/x", "next")
	if v != 0 || isNew {
		t.Fatalf("Assign x again = %d %v", v, isNew)
	}
	c.Set("z", 42)
	if v, ok, _ := c.Get("z"); !ok || v != 42 {
		t.Fatalf("Get z = %d %v", v, ok)
	}
	if _, ok, _ := c.Get("missing"); ok {
		t.Fatal("Get missing: found")
	}
}

// TestCountersReopen: values written with a commit survive a restart, and
// a tiny cache (constant eviction) changes nothing.
func TestCountersReopen(t *testing.T) {
	dir := t.TempDir()
	for run := 0; run < 3; run++ {
		db, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		w := NewWriter(db, WriterOptions{})
		c, _ := w.Counters("seq", 2)
		q, _ := w.Queue("q", QueueLimits{})
		for i := 0; i < 10; i++ {
			key := fmt.Sprintf("k%d", i%4)
			v, err := c.Next(key)
			if err != nil {
				t.Fatal(err)
			}
			// Each key is used 3 times per run (k0, k1: 3; k2, k3: 2).
			uses := 3
			if i%4 >= 2 {
				uses = 2
			}
			if want := uint64(run*uses + i/4); v != want {
				t.Fatalf("run %d: Next(%s) = %d, want %d", run, key, v, want)
			}
			b := w.NewBatch()
			b.Append(q, []byte(fmt.Sprintf("%s=%d", key, v)))
			if err := b.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		cin, isNew, err := c.Assign(fmt.Sprintf("map/%d", run), "cin")
		if err != nil || !isNew || cin != uint64(run) {
			t.Fatalf("run %d: Assign = %d %v %v", run, cin, isNew, err)
		}
		for r := 0; r < run; r++ {
			cin, isNew, _ := c.Assign(fmt.Sprintf("map/%d", r), "cin")
			if isNew || cin != uint64(r) {
				t.Fatalf("run %d: old map/%d = %d %v", run, r, cin, isNew)
			}
		}
		// The counter changes since the last batch are written at Close.
		w.Close()
		db.Close()
	}
}

func TestCountersConcurrent(t *testing.T) {
	_, w := openTestWriter(t, t.TempDir(), WriterOptions{})
	c, _ := w.Counters("seq", 8)
	const workers, per = 8, 200
	seen := make([][]uint64, workers)
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				v, err := c.Next("shared")
				if err != nil {
					t.Error(err)
					return
				}
				seen[g] = append(seen[g], v)
				if i%50 == 0 {
					w.Flush(context.Background())
				}
			}
		}()
	}
	wg.Wait()
	got := make(map[uint64]bool)
	for _, s := range seen {
		for _, v := range s {
			if got[v] {
				t.Fatalf("value %d handed out twice", v)
			}
			got[v] = true
		}
	}
	for v := uint64(0); v < workers*per; v++ {
		if !got[v] {
			t.Fatalf("value %d missing", v)
		}
	}
}

func TestCountersScan(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(db, WriterOptions{})
	c, _ := w.Counters("d", 0)
	c.Set("x/1", 1)
	c.Set("x/2", 2)
	c.Set("y/1", 9)
	w.Close()
	db.Close()

	_, w = openTestWriter(t, dir, WriterOptions{})
	c, _ = w.Counters("d", 0)
	c.Set("x/3", 3)  // not yet committed
	c.Set("x/1", 10) // overrides the stored value
	got := map[string]uint64{}
	if err := c.Scan("x/", func(k string, v uint64) { got[k] = v }); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"x/1": 10, "x/2": 2, "x/3": 3}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Scan = %v, want %v", got, want)
	}
}
