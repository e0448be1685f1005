package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkGroupCommit appends 300-byte records from 8 producers, each
// committing batches of 64 records and waiting for them; one op is one
// record. It reports the records per transaction (each one fsync).
func BenchmarkGroupCommit(b *testing.B) {
	db, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w := NewWriter(db, WriterOptions{})
	defer w.Close()
	q, _ := w.Queue("bench", QueueLimits{})
	rec := make([]byte, 300)
	const producers, batch = 8, 64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/producers + 1
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i += batch {
				bt := w.NewBatch()
				for j := 0; j < batch; j++ {
					bt.Append(q, rec)
				}
				if err := bt.Commit(context.Background()); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	st := w.Stats()
	b.ReportMetric(float64(st.Appends)/el.Seconds(), "records/s")
	b.ReportMetric(float64(st.Appends)/float64(st.Commits), "records/commit")
	b.ReportMetric(float64(el.Microseconds())/1000/float64(st.Commits), "ms/commit")
}

// BenchmarkQueueAckCycle appends and acknowledges in a steady state (the
// queue stays short), as delivery does.
func BenchmarkQueueAckCycle(b *testing.B) {
	db, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w := NewWriter(db, WriterOptions{})
	defer w.Close()
	q, _ := w.Queue("bench", QueueLimits{})
	rec := make([]byte, 300)
	b.ResetTimer()
	for i := 0; i < b.N; i += 1024 {
		bt := w.NewBatch()
		for j := 0; j < 1024; j++ {
			bt.Append(q, rec)
		}
		if err := bt.Commit(context.Background()); err != nil {
			b.Fatal(err)
		}
		q.Ack(q.Stats().Tail)
	}
	w.Flush(context.Background())
	st := w.Stats()
	b.ReportMetric(float64(st.Appends)/float64(st.Commits), "records/commit")
}
