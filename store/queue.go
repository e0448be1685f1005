package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Sentinel errors of the queue and the group-commit writer.
var (
	// ErrQueueFull is returned by Batch.Append when the queue is at its cap
	// (records or bytes, counting records accepted but not yet committed).
	ErrQueueFull = errors.New("store: queue full")
	// ErrWriterClosed is returned for batches submitted after Writer.Close.
	ErrWriterClosed = errors.New("store: writer closed")
)

// Bucket name prefixes. One bucket per queue; keys are big-endian uint64
// positions (1, 2, 3, ...), values the caller's opaque records.
const (
	queueBucketPrefix   = "queue/"
	counterBucketPrefix = "counters/"
)

// WriterOptions tune the group commit.
type WriterOptions struct {
	// MaxBatchOps bounds the operations (appends, counter updates are not
	// counted) committed in one bbolt transaction. Default 8192.
	MaxBatchOps int
	// MaxBatchBytes bounds the appended bytes per transaction. Default 8 MiB.
	MaxBatchBytes int
	// Linger is how long the committer waits for more batches after the
	// first one before committing. Zero (the default) commits as soon as the
	// previous commit is done: batches then grow naturally with the load,
	// because producers queue up while the committer waits on fsync.
	Linger time.Duration
	// Pending bounds the batches submitted but not yet committed; Submit
	// blocks beyond it (back-pressure). Default 16384.
	Pending int
	// AckDelay is how long an acknowledgement may wait for a transaction
	// that commits anyway before it gets one of its own (default 20ms;
	// negative: at once). Removal is not urgent: it only frees space.
	AckDelay time.Duration
}

func (o *WriterOptions) defaults() {
	if o.MaxBatchOps <= 0 {
		o.MaxBatchOps = 8192
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 8 << 20
	}
	if o.Pending <= 0 {
		o.Pending = 16384
	}
	if o.AckDelay == 0 {
		o.AckDelay = 20 * time.Millisecond
	}
}

// WriterStats are cumulative figures of a Writer.
type WriterStats struct {
	Commits  uint64 // bbolt transactions (each one fsync)
	Batches  uint64 // batches committed
	Appends  uint64 // records appended
	Failures uint64 // transactions that failed
}

// Writer is the group committer: many producers build Batches, one
// goroutine applies them in submission order, several per bbolt Update
// (one fsync per transaction), and then wakes the producers. Queues and
// Counters are opened through it so that their in-memory state and their
// updates go through the same transactions.
type Writer struct {
	db   *DB
	opts WriterOptions
	log  func(msg string, args ...any)

	reqs chan *Batch
	kick chan struct{}
	quit chan struct{}
	done chan struct{}

	// closeMu is held shared while a batch is handed to the committer and
	// exclusively by Close, so no batch is handed over after the final drain.
	closeMu  sync.RWMutex
	closed   bool
	mu       sync.Mutex // guards queues and counters
	queues   map[string]*Queue
	counters map[string]*Counters

	kickArmed atomic.Bool

	stats struct {
		commits, batches, appends, failures atomic.Uint64
	}
}

// NewWriter starts the committer goroutine. Close stops it.
func NewWriter(db *DB, opts WriterOptions) *Writer {
	opts.defaults()
	w := &Writer{
		db:       db,
		opts:     opts,
		reqs:     make(chan *Batch, opts.Pending),
		kick:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		queues:   make(map[string]*Queue),
		counters: make(map[string]*Counters),
	}
	go w.run()
	return w
}

// Stats returns cumulative commit figures.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Commits:  w.stats.commits.Load(),
		Batches:  w.stats.batches.Load(),
		Appends:  w.stats.appends.Load(),
		Failures: w.stats.failures.Load(),
	}
}

// Close commits every batch already submitted, pending acknowledgements
// and counter updates, then stops the committer. Batches submitted later
// fail with ErrWriterClosed. Close does not close the DB.
func (w *Writer) Close() error {
	w.closeMu.Lock()
	if w.closed {
		w.closeMu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	close(w.quit)
	w.closeMu.Unlock()
	<-w.done
	return nil
}

// Flush waits until every batch submitted before it is committed.
func (w *Writer) Flush(ctx context.Context) error {
	b := w.NewBatch()
	return b.Commit(ctx)
}

// Batch collects operations that are committed atomically together (and
// with other producers' batches). A Batch is used by one goroutine and
// submitted once.
type Batch struct {
	w       *Writer
	appends []appendOp
	audits  [][]byte
	nbytes  int
	// OnDone, when set, is called by the committer after the batch's
	// transaction (nil error) or its failure. It must not block.
	OnDone func(error)

	wait chan error
}

type appendOp struct {
	q    *Queue
	data []byte
}

// NewBatch starts an empty batch.
func (w *Writer) NewBatch() *Batch { return &Batch{w: w} }

// Len returns the number of records appended to the batch.
func (b *Batch) Len() int { return len(b.appends) }

// Append adds rec to the end of q when the batch commits. The capacity is
// reserved now: ErrQueueFull (wrapped) when q is at its cap. The Batch owns
// rec afterwards.
func (b *Batch) Append(q *Queue, rec []byte) error {
	if err := q.reserve(len(rec)); err != nil {
		return err
	}
	b.appends = append(b.appends, appendOp{q: q, data: rec})
	b.nbytes += len(rec)
	return nil
}

// Audit appends data to the audit log (store.DB.AuditLog) in the batch's
// transaction.
func (b *Batch) Audit(data []byte) {
	b.audits = append(b.audits, append([]byte(nil), data...))
}

// Abort releases the capacity reserved by Append; the batch must not be
// submitted afterwards.
func (b *Batch) Abort() {
	for _, a := range b.appends {
		a.q.unreserve(len(a.data))
	}
	b.appends = nil
}

// Submit hands the batch to the committer without waiting; OnDone reports
// the outcome. It blocks only when the committer is Pending batches behind
// (or until ctx ends).
func (b *Batch) Submit(ctx context.Context) error {
	w := b.w
	w.closeMu.RLock()
	defer w.closeMu.RUnlock()
	if w.closed {
		b.Abort()
		return ErrWriterClosed
	}
	select {
	case w.reqs <- b:
		return nil
	case <-ctx.Done():
		b.Abort()
		return fmt.Errorf("store: submit batch: %w", ctx.Err())
	}
}

// Commit submits the batch and waits until its transaction is on disk.
// If ctx ends first the batch may still be committed later.
func (b *Batch) Commit(ctx context.Context) error {
	b.wait = make(chan error, 1)
	if err := b.Submit(ctx); err != nil {
		return err
	}
	select {
	case err := <-b.wait:
		return err
	case <-ctx.Done():
		return fmt.Errorf("store: commit batch: %w", ctx.Err())
	}
}

func (b *Batch) finish(err error) {
	if err != nil {
		b.Abort()
	}
	if b.OnDone != nil {
		b.OnDone(err)
	}
	if b.wait != nil {
		b.wait <- err
	}
}

func (w *Writer) run() {
	defer close(w.done)
	var group []*Batch
	for {
		group = group[:0]
		select {
		case b := <-w.reqs:
			group = append(group, b)
		case <-w.kick:
		case <-w.quit:
			// Drain what was submitted before Close, then stop.
			for {
				select {
				case b := <-w.reqs:
					group = append(group, b)
					if len(group) >= 256 {
						w.commit(group)
						group = group[:0]
					}
					continue
				default:
				}
				break
			}
			w.commit(group)
			return
		}
		if w.opts.Linger > 0 && len(group) > 0 {
			t := time.NewTimer(w.opts.Linger)
			w.collect(&group, t.C)
			t.Stop()
		} else {
			w.collect(&group, nil)
		}
		w.commit(group)
	}
}

// collect adds waiting batches to group up to the size limits; with a
// timer channel it waits for more until the timer fires.
func (w *Writer) collect(group *[]*Batch, timer <-chan time.Time) {
	ops, nbytes := 0, 0
	for _, b := range *group {
		ops += len(b.appends) + 1
		nbytes += b.nbytes
	}
	for ops < w.opts.MaxBatchOps && nbytes < w.opts.MaxBatchBytes {
		if timer == nil {
			select {
			case b := <-w.reqs:
				*group = append(*group, b)
				ops += len(b.appends) + 1
				nbytes += b.nbytes
				continue
			default:
				return
			}
		}
		select {
		case b := <-w.reqs:
			*group = append(*group, b)
			ops += len(b.appends) + 1
			nbytes += b.nbytes
		case <-timer:
			return
		case <-w.quit:
			return
		}
	}
}

// commit applies the group, pending acknowledgements and dirty counters in
// one transaction, then publishes the new queue state and wakes producers.
func (w *Writer) commit(group []*Batch) {
	w.mu.Lock()
	queues := make([]*Queue, 0, len(w.queues))
	for _, q := range w.queues {
		queues = append(queues, q)
	}
	counters := make([]*Counters, 0, len(w.counters))
	for _, c := range w.counters {
		counters = append(counters, c)
	}
	w.mu.Unlock()

	// Snapshot what this transaction does besides the batches.
	acks := make(map[*Queue]uint64)
	for _, q := range queues {
		if upTo, ok := q.takeAck(); ok {
			acks[q] = upTo
		}
	}
	dirty := make(map[*Counters]map[string]uint64)
	for _, c := range counters {
		if d := c.takeDirty(); len(d) > 0 {
			dirty[c] = d
		}
	}
	nappend := 0
	for _, b := range group {
		nappend += len(b.appends)
	}
	naudit := 0
	for _, b := range group {
		naudit += len(b.audits)
	}
	if nappend == 0 && naudit == 0 && len(acks) == 0 && len(dirty) == 0 {
		// Nothing to write (Flush barriers): everything before is done.
		w.stats.batches.Add(uint64(len(group)))
		for _, b := range group {
			b.finish(nil)
		}
		return
	}

	// Positions are assigned here, in commit order; they are rolled back
	// if the transaction fails.
	start := make(map[*Queue]uint64)
	appended := make(map[*Queue][2]int64) // records, bytes
	deleted := make(map[*Queue][2]int64)
	var deletedHead = make(map[*Queue]uint64)
	err := w.db.bolt.Update(func(tx *bolt.Tx) error {
		bkts := make(map[*Queue]*bolt.Bucket)
		bucket := func(q *Queue) (*bolt.Bucket, error) {
			if bk, ok := bkts[q]; ok {
				return bk, nil
			}
			bk, err := tx.CreateBucketIfNotExists(q.bucket)
			if err != nil {
				return nil, err
			}
			bk.FillPercent = 1.0 // keys only ever grow: pack pages full
			bkts[q] = bk
			start[q] = q.next
			return bk, nil
		}
		// bbolt keeps the key and value slices until the transaction
		// ends: every Put gets its own bytes, cut from one slab.
		slab := make([]byte, 0, 8*(nappend+naudit))
		newKey := func(v uint64) []byte {
			slab = binary.BigEndian.AppendUint64(slab, v)
			return slab[len(slab)-8:]
		}
		for _, b := range group {
			for _, a := range b.appends {
				bk, err := bucket(a.q)
				if err != nil {
					return err
				}
				a.q.next++
				if err := bk.Put(newKey(a.q.next), a.data); err != nil {
					return err
				}
				s := appended[a.q]
				s[0]++
				s[1] += int64(len(a.data))
				appended[a.q] = s
			}
		}
		for q := range appended {
			if err := bkts[q].SetSequence(q.next); err != nil {
				return err
			}
		}
		for q, upTo := range acks {
			bk, err := bucket(q)
			if err != nil {
				return err
			}
			// Delete backwards from the last key <= upTo: deleting under
			// a cursor shifts the later elements of its page, so moving
			// forward would skip keys, while Prev stays exact (and each
			// step is cheap, unlike a new search from the root).
			c := bk.Cursor()
			var n, nb int64
			var last uint64
			var seek [8]byte
			binary.BigEndian.PutUint64(seek[:], upTo)
			k, v := c.Seek(seek[:])
			if k == nil || binary.BigEndian.Uint64(k) > upTo {
				k, v = c.Prev()
			}
			for ; k != nil; k, v = c.Prev() {
				pos := binary.BigEndian.Uint64(k)
				if pos > upTo {
					return fmt.Errorf("queue %s: key %d above acknowledged %d while deleting", q.name, pos, upTo)
				}
				n++
				nb += int64(len(v))
				last = max(last, pos)
				if err := c.Delete(); err != nil {
					return err
				}
			}
			deleted[q] = [2]int64{n, nb}
			if n > 0 {
				deletedHead[q] = last
			}
		}
		if len(dirty) > 0 {
			for c, d := range dirty {
				bk, err := tx.CreateBucketIfNotExists(c.bucket)
				if err != nil {
					return err
				}
				for k, val := range d {
					if err := bk.Put([]byte(k), binary.BigEndian.AppendUint64(nil, val)); err != nil {
						return err
					}
				}
			}
		}
		var auditBk *bolt.Bucket
		for _, b := range group {
			for _, data := range b.audits {
				if auditBk == nil {
					var err error
					if auditBk, err = tx.CreateBucketIfNotExists([]byte(auditBucket)); err != nil {
						return err
					}
				}
				seq, err := auditBk.NextSequence()
				if err != nil {
					return err
				}
				k := newKey(seq)
				v := make([]byte, 8+len(data))
				binary.BigEndian.PutUint64(v, uint64(time.Now().UnixNano()))
				copy(v[8:], data)
				if err := auditBk.Put(k, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("store: commit: %w", err)
		w.stats.failures.Add(1)
		for q, s := range start {
			q.next = s
		}
		for q, upTo := range acks {
			q.restoreAck(upTo)
		}
		for c, d := range dirty {
			c.restoreDirty(d)
		}
		for _, b := range group {
			b.finish(err)
		}
		return
	}
	w.stats.commits.Add(1)
	w.stats.batches.Add(uint64(len(group)))
	w.stats.appends.Add(uint64(nappend))
	for q, s := range appended {
		q.committed(s[0], s[1])
	}
	for q, d := range deleted {
		q.removed(d[0], d[1], deletedHead[q])
	}
	for c, d := range dirty {
		c.committedDirty(d)
	}
	for _, b := range group {
		b.finish(nil)
	}
}

// QueueLimits cap a queue; zero means unlimited.
type QueueLimits struct {
	MaxRecords int
	MaxBytes   int64
}

// QueueStats describe a queue.
type QueueStats struct {
	Records int64  // stored (committed, not yet acknowledged)
	Bytes   int64  // bytes of those records
	Head    uint64 // position of the oldest stored record (Tail+1 when empty)
	Tail    uint64 // position of the newest committed record (0: none ever)
	Refused uint64 // appends refused with ErrQueueFull since opened
}

// Record is one queued record and its position.
type Record struct {
	Pos  uint64
	Data []byte
}

// Queue is a durable FIFO of opaque records, one bbolt bucket. Records are
// appended through Batches (group commit), read from any position without
// being removed, and removed by Ack once the consumer has them confirmed.
type Queue struct {
	w      *Writer
	name   string
	bucket []byte
	notify chan struct{}

	// next is the last position assigned; touched only by the committer
	// goroutine (and Open, before the queue is published).
	next uint64

	mu       sync.Mutex
	limits   QueueLimits
	records  int64 // committed and not removed
	bytes    int64
	reserved int64 // records appended to batches, not yet committed
	resBytes int64
	head     uint64
	tail     uint64
	refused  uint64
	ackTo    uint64 // highest acknowledged position requested
	ackDone  uint64 // highest position removed (or known absent)
	ackSet   bool
}

// Queue opens (creating) the named queue with limits. Opening the same
// name twice returns the same *Queue with the new limits.
func (w *Writer) Queue(name string, lim QueueLimits) (*Queue, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q, ok := w.queues[name]; ok {
		q.SetLimits(lim)
		return q, nil
	}
	q := &Queue{
		w:      w,
		name:   name,
		bucket: []byte(queueBucketPrefix + name),
		notify: make(chan struct{}, 1),
		limits: lim,
	}
	// Scan once: count what survived the last run.
	err := w.db.bolt.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(q.bucket)
		if bk == nil {
			return nil
		}
		q.next = bk.Sequence()
		c := bk.Cursor()
		first := true
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("bad key length %d", len(k))
			}
			if first {
				q.head = binary.BigEndian.Uint64(k)
				first = false
			}
			q.records++
			q.bytes += int64(len(v))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: open queue %s: %w", name, err)
	}
	q.tail = q.next
	if q.records == 0 {
		q.head = q.tail + 1
	}
	q.ackDone = q.head - 1
	w.queues[name] = q
	return q, nil
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// SetLimits changes the cap; records already stored are kept.
func (q *Queue) SetLimits(lim QueueLimits) {
	q.mu.Lock()
	q.limits = lim
	q.mu.Unlock()
}

// Stats returns the queue's figures.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return QueueStats{Records: q.records, Bytes: q.bytes, Head: q.head, Tail: q.tail, Refused: q.refused}
}

// Notify returns a channel that receives a value after a commit appended
// to the queue (coalesced: one value may stand for several commits).
func (q *Queue) Notify() <-chan struct{} { return q.notify }

func (q *Queue) reserve(n int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.limits.MaxRecords > 0 && q.records+q.reserved+1 > int64(q.limits.MaxRecords) ||
		q.limits.MaxBytes > 0 && q.bytes+q.resBytes+int64(n) > q.limits.MaxBytes {
		q.refused++
		return fmt.Errorf("store: append to queue %s (%d records, %d bytes stored): %w",
			q.name, q.records+q.reserved, q.bytes+q.resBytes, ErrQueueFull)
	}
	q.reserved++
	q.resBytes += int64(n)
	return nil
}

func (q *Queue) unreserve(n int) {
	q.mu.Lock()
	q.reserved--
	q.resBytes -= int64(n)
	q.mu.Unlock()
}

func (q *Queue) committed(n, nbytes int64) {
	q.mu.Lock()
	q.reserved -= n
	q.resBytes -= nbytes
	q.records += n
	q.bytes += nbytes
	q.tail = q.next
	if q.records == n { // was empty
		q.head = q.tail - uint64(n) + 1
	}
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *Queue) removed(n, nbytes int64, last uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.records -= n
	q.bytes -= nbytes
	if n > 0 && last+1 > q.head {
		q.head = last + 1
	}
	if q.records == 0 {
		q.head = q.tail + 1
	}
}

// Ack removes every record at positions <= upTo, in the next commit (it
// does not wait; removal is idempotent and an ack lost in a crash only
// means the records are delivered again).
func (q *Queue) Ack(upTo uint64) {
	q.mu.Lock()
	if upTo > q.tail {
		upTo = q.tail
	}
	if upTo <= q.ackDone || (q.ackSet && upTo <= q.ackTo) {
		q.mu.Unlock()
		return
	}
	q.ackTo = upTo
	q.ackSet = true
	q.mu.Unlock()
	q.w.kickLater()
}

// kickLater makes the committer run within AckDelay even if no batch
// arrives meanwhile.
func (w *Writer) kickLater() {
	if w.opts.AckDelay < 0 {
		w.kickNow()
		return
	}
	if w.kickArmed.CompareAndSwap(false, true) {
		time.AfterFunc(w.opts.AckDelay, func() {
			w.kickArmed.Store(false)
			w.kickNow()
		})
	}
}

func (w *Writer) kickNow() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (q *Queue) takeAck() (uint64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.ackSet {
		return 0, false
	}
	q.ackSet = false
	if q.ackTo > q.ackDone {
		q.ackDone = q.ackTo
	}
	return q.ackTo, true
}

func (q *Queue) restoreAck(upTo uint64) {
	q.mu.Lock()
	if !q.ackSet || upTo > q.ackTo {
		q.ackTo = upTo
	}
	q.ackSet = true
	q.ackDone = q.head - 1
	q.mu.Unlock()
}

// Read returns up to max records (and about maxBytes; at least one record
// when any) at positions >= from, in order, without removing them. The
// data are copies.
func (q *Queue) Read(from uint64, max int, maxBytes int) ([]Record, error) {
	q.mu.Lock()
	if from < q.head {
		from = q.head
	}
	tail := q.tail
	q.mu.Unlock()
	if from > tail || max <= 0 {
		return nil, nil
	}
	var out []Record
	err := q.w.db.bolt.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(q.bucket)
		if bk == nil {
			return nil
		}
		var key [8]byte
		binary.BigEndian.PutUint64(key[:], from)
		c := bk.Cursor()
		size := 0
		for k, v := c.Seek(key[:]); k != nil && len(out) < max; k, v = c.Next() {
			pos := binary.BigEndian.Uint64(k)
			if pos > tail {
				break
			}
			if len(out) > 0 && maxBytes > 0 && size+len(v) > maxBytes {
				break
			}
			size += len(v)
			out = append(out, Record{Pos: pos, Data: append([]byte(nil), v...)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: read queue %s: %w", q.name, err)
	}
	return out, nil
}
