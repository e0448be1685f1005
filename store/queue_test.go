package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func openTestWriter(t *testing.T, dir string, opts WriterOptions) (*DB, *Writer) {
	t.Helper()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(db, opts)
	t.Cleanup(func() {
		w.Close()
		db.Close()
	})
	return db, w
}

func rec(i int) []byte { return []byte(fmt.Sprintf("record-%05d", i)) }

func appendN(t *testing.T, w *Writer, q *Queue, from, n int) {
	t.Helper()
	b := w.NewBatch()
	for i := from; i < from+n; i++ {
		if err := b.Append(q, rec(i)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if err := b.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func wantRecords(t *testing.T, got []Record, firstPos uint64, firstRec, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d records, want %d", len(got), n)
	}
	for i, r := range got {
		if r.Pos != firstPos+uint64(i) {
			t.Errorf("record %d: pos %d, want %d", i, r.Pos, firstPos+uint64(i))
		}
		if want := rec(firstRec + i); string(r.Data) != string(want) {
			t.Errorf("record %d: %q, want %q", i, r.Data, want)
		}
	}
}

func TestQueueAppendReadAck(t *testing.T) {
	_, w := openTestWriter(t, t.TempDir(), WriterOptions{})
	q, err := w.Queue("a", QueueLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if st := q.Stats(); st.Records != 0 || st.Head != 1 || st.Tail != 0 {
		t.Fatalf("empty queue stats %+v", st)
	}
	appendN(t, w, q, 0, 10)
	appendN(t, w, q, 10, 5)
	select {
	case <-q.Notify():
	default:
		t.Error("no notification after commit")
	}
	got, err := q.Read(1, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantRecords(t, got, 1, 0, 15)

	// Reading does not remove; limits are honoured.
	got, _ = q.Read(4, 3, 0)
	wantRecords(t, got, 4, 3, 3)
	got, _ = q.Read(1, 100, 2*len(rec(0)))
	wantRecords(t, got, 1, 0, 2)
	got, _ = q.Read(1, 100, 1) // at least one record
	wantRecords(t, got, 1, 0, 1)
	got, _ = q.Read(16, 100, 0)
	wantRecords(t, got, 16, 0, 0)

	q.Ack(6)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := q.Stats()
	if st.Records != 9 || st.Head != 7 || st.Tail != 15 || st.Bytes != int64(9*len(rec(0))) {
		t.Fatalf("after ack: %+v", st)
	}
	got, _ = q.Read(1, 100, 0) // positions before the head are gone
	wantRecords(t, got, 7, 6, 9)

	q.Ack(3) // older ack: no effect
	q.Ack(100)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := q.Stats(); st.Records != 0 || st.Bytes != 0 || st.Head != 16 {
		t.Fatalf("after full ack: %+v", st)
	}
	appendN(t, w, q, 15, 1)
	got, _ = q.Read(0, 100, 0)
	wantRecords(t, got, 16, 15, 1)
}

func TestQueueReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(db, WriterOptions{})
	q, _ := w.Queue("dest", QueueLimits{})
	other, _ := w.Queue("other", QueueLimits{})
	appendN(t, w, q, 0, 20)
	appendN(t, w, other, 100, 3)
	q.Ack(5)
	// Close commits the pending ack.
	w.Close()
	db.Close()

	db, w = openTestWriter(t, dir, WriterOptions{})
	q, err = w.Queue("dest", QueueLimits{})
	if err != nil {
		t.Fatal(err)
	}
	st := q.Stats()
	if st.Records != 15 || st.Head != 6 || st.Tail != 20 {
		t.Fatalf("reopened stats %+v", st)
	}
	got, _ := q.Read(0, 100, 0)
	wantRecords(t, got, 6, 5, 15)
	other, _ = w.Queue("other", QueueLimits{})
	got, _ = other.Read(0, 100, 0)
	wantRecords(t, got, 1, 100, 3)

	// Positions keep growing after everything was acknowledged and reopened.
	q.Ack(20)
	w.Flush(context.Background())
	w.Close()
	db.Close()
	db, w = openTestWriter(t, dir, WriterOptions{})
	q, _ = w.Queue("dest", QueueLimits{})
	if st := q.Stats(); st.Records != 0 || st.Head != 21 || st.Tail != 20 {
		t.Fatalf("reopened empty stats %+v", st)
	}
	appendN(t, w, q, 50, 2)
	got, _ = q.Read(0, 100, 0)
	wantRecords(t, got, 21, 50, 2)
	_ = db
}

func TestQueueCap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits QueueLimits
		fits   int
	}{
		{"records", QueueLimits{MaxRecords: 4}, 4},
		{"bytes", QueueLimits{MaxBytes: int64(3*len(rec(0)) + 5)}, 3},
		{"both", QueueLimits{MaxRecords: 10, MaxBytes: int64(2 * len(rec(0)))}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, w := openTestWriter(t, t.TempDir(), WriterOptions{})
			q, _ := w.Queue("capped", tc.limits)
			// Reservation counts records not yet committed.
			b := w.NewBatch()
			for i := 0; i < tc.fits; i++ {
				if err := b.Append(q, rec(i)); err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
			}
			if err := b.Append(q, rec(tc.fits)); !errors.Is(err, ErrQueueFull) {
				t.Fatalf("append over cap in the same batch: %v, want ErrQueueFull", err)
			}
			if err := b.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			b = w.NewBatch()
			if err := b.Append(q, rec(99)); !errors.Is(err, ErrQueueFull) {
				t.Fatalf("append to full queue: %v, want ErrQueueFull", err)
			}
			if st := q.Stats(); st.Refused != 2 || st.Records != int64(tc.fits) {
				t.Fatalf("stats %+v", st)
			}
			// An acknowledgement makes room again.
			q.Ack(1)
			w.Flush(context.Background())
			if err := b.Append(q, rec(tc.fits)); err != nil {
				t.Fatalf("append after ack: %v", err)
			}
			b.Commit(context.Background())
			got, _ := q.Read(0, 100, 0)
			if len(got) != tc.fits || string(got[len(got)-1].Data) != string(rec(tc.fits)) {
				t.Fatalf("queue content after refill: %d records", len(got))
			}
			// An aborted batch releases its reservation.
			q.Ack(2)
			w.Flush(context.Background())
			b = w.NewBatch()
			if err := b.Append(q, rec(7)); err != nil {
				t.Fatal(err)
			}
			b.Abort()
			b = w.NewBatch()
			if err := b.Append(q, rec(8)); err != nil {
				t.Fatalf("append after abort: %v", err)
			}
			b.Abort()
		})
	}
}

// TestGroupCommit shows that concurrent producers share transactions: with
// a long linger the committer waits until MaxBatchOps are collected.
func TestGroupCommit(t *testing.T) {
	const producers = 10
	// Each batch counts as its appends + 1.
	_, w := openTestWriter(t, t.TempDir(), WriterOptions{MaxBatchOps: 2 * producers, Linger: time.Hour})
	q, _ := w.Queue("g", QueueLimits{})
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for i := 0; i < producers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := w.NewBatch()
			if err := b.Append(q, rec(i)); err != nil {
				errs <- err
				return
			}
			errs <- b.Commit(context.Background())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := w.Stats()
	if st.Commits != 1 || st.Batches != producers || st.Appends != producers {
		t.Fatalf("writer stats %+v, want 1 commit of %d batches", st, producers)
	}
	if got, _ := q.Read(0, 100, 0); len(got) != producers {
		t.Fatalf("%d records, want %d", len(got), producers)
	}
}

func TestBatchAuditAndOnDone(t *testing.T) {
	db, w := openTestWriter(t, t.TempDir(), WriterOptions{})
	q, _ := w.Queue("x", QueueLimits{})
	b := w.NewBatch()
	b.Append(q, rec(1))
	b.Audit([]byte(`{"event":"test"}`))
	done := make(chan error, 1)
	b.OnDone = func(err error) { done <- err }
	if err := b.Submit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	log, err := db.AuditLog(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || string(log[0].Data) != `{"event":"test"}` {
		t.Fatalf("audit log %+v", log)
	}
	// db.Audit continues the same numbering.
	seq, err := db.Audit([]byte("next"))
	if err != nil || seq != 2 {
		t.Fatalf("db.Audit seq %d err %v", seq, err)
	}
}

func TestWriterClose(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(db, WriterOptions{})
	q, _ := w.Queue("c", QueueLimits{})
	results := make(chan error, 100)
	for i := 0; i < 100; i++ {
		b := w.NewBatch()
		b.Append(q, rec(i))
		b.OnDone = func(err error) { results <- err }
		if err := b.Submit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for i := 0; i < 100; i++ {
		if err := <-results; err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	b := w.NewBatch()
	if err := b.Append(q, rec(0)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(context.Background()); !errors.Is(err, ErrWriterClosed) {
		t.Fatalf("commit after close: %v", err)
	}
	db.Close()
	db, w = openTestWriter(t, dir, WriterOptions{})
	q, _ = w.Queue("c", QueueLimits{})
	got, _ := q.Read(0, 1000, 0)
	wantRecords(t, got, 1, 0, 100)
}

func TestSubmitBackPressure(t *testing.T) {
	// The committer is held (w.mu) with the first batch; the second fills
	// the one-slot channel; the third cannot be submitted before ctx ends.
	_, w := openTestWriter(t, t.TempDir(), WriterOptions{Pending: 1})
	q, _ := w.Queue("c", QueueLimits{MaxRecords: 3})
	w.mu.Lock()
	for i := 0; i < 2; i++ {
		b := w.NewBatch()
		if err := b.Append(q, rec(i)); err != nil {
			t.Fatal(err)
		}
		if err := b.Submit(context.Background()); err != nil {
			t.Fatal(err)
		}
		for i == 0 && len(w.reqs) != 0 { // the committer took it
			time.Sleep(time.Millisecond)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := w.NewBatch()
	if err := b.Append(q, rec(2)); err != nil {
		t.Fatal(err)
	}
	if err := b.Submit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("submit on a full pipeline with a cancelled context: %v", err)
	}
	// Its reservation was released: one more record fits the cap of 3.
	b = w.NewBatch()
	if err := b.Append(q, rec(3)); err != nil {
		t.Fatalf("reservation leaked: %v", err)
	}
	b.Abort()
	w.mu.Unlock()
	// Close commits both submitted batches.
	w.Close()
	if st := q.Stats(); st.Records != 2 {
		t.Fatalf("after close: %+v", st)
	}
}

// TestQueueAckPattern acknowledges in steps of many sizes (within a page,
// across pages, past the tail) and checks the exact remaining content.
func TestQueueAckPattern(t *testing.T) {
	_, w := openTestWriter(t, t.TempDir(), WriterOptions{AckDelay: -1})
	q, _ := w.Queue("p", QueueLimits{})
	next := 0
	acked := 0
	for _, step := range []struct{ add, ack int }{
		{1, 1}, {10, 3}, {500, 1}, {0, 250}, {3000, 2000}, {0, 1}, {7, 0}, {100, 1260}, {5, 100},
	} {
		appendN(t, w, q, next, step.add)
		next += step.add
		acked = min(acked+step.ack, next)
		q.Ack(uint64(acked))
		if err := w.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, err := q.Read(0, 10000, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantRecords(t, got, uint64(acked+1), acked, next-acked)
		if st := q.Stats(); st.Records != int64(next-acked) || st.Head != uint64(acked+1) || st.Bytes != int64((next-acked)*len(rec(0))) {
			t.Fatalf("after acking %d of %d: %+v", acked, next, st)
		}
	}
}
