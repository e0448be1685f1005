package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Counters is a persisted map of named uint64 values (sequence numbers,
// allocations) in one bbolt bucket. Changes are made in memory and written
// by the Writer's next transaction, so a value used for a record appended
// in a later-submitted Batch is on disk no later than that record: after a
// crash a counter is never behind a record that used it, and numbers are
// never handed out twice.
//
// The in-memory cache is bounded (CacheSize); evicted values are read back
// from disk when needed.
type Counters struct {
	w      *Writer
	name   string
	bucket []byte

	mu       sync.Mutex
	max      int
	cache    map[string]uint64 // values known to be on disk
	dirty    map[string]uint64 // changed, not yet taken by a commit
	inflight map[string]uint64 // taken by the running commit
}

// DefaultCounterCache is the cache size used when 0 is given.
const DefaultCounterCache = 1 << 16

// Counters opens the named counter set; cacheSize bounds the values kept in
// memory (0: DefaultCounterCache). Opening the same name twice returns the
// same *Counters.
func (w *Writer) Counters(name string, cacheSize int) (*Counters, error) {
	if cacheSize <= 0 {
		cacheSize = DefaultCounterCache
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.counters[name]; ok {
		return c, nil
	}
	c := &Counters{
		w:      w,
		name:   name,
		bucket: []byte(counterBucketPrefix + name),
		max:    cacheSize,
		cache:  make(map[string]uint64),
		dirty:  make(map[string]uint64),
	}
	w.counters[name] = c
	return c, nil
}

// get returns the current value; c.mu is held.
func (c *Counters) get(key string) (uint64, bool, error) {
	if v, ok := c.dirty[key]; ok {
		return v, true, nil
	}
	if v, ok := c.inflight[key]; ok {
		return v, true, nil
	}
	if v, ok := c.cache[key]; ok {
		return v, true, nil
	}
	var v uint64
	var found bool
	err := c.w.db.bolt.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(c.bucket)
		if bk == nil {
			return nil
		}
		raw := bk.Get([]byte(key))
		if raw == nil {
			return nil
		}
		if len(raw) != 8 {
			return fmt.Errorf("bad value length %d", len(raw))
		}
		v, found = binary.BigEndian.Uint64(raw), true
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: counter %s/%q: %w", c.name, key, err)
	}
	if found {
		c.remember(key, v)
	}
	return v, found, nil
}

func (c *Counters) remember(key string, v uint64) {
	if len(c.cache) >= c.max {
		clear(c.cache) // crude but bounded; misses are read back from disk
	}
	c.cache[key] = v
}

func (c *Counters) set(key string, v uint64) {
	c.dirty[key] = v
}

// Get returns the value of key and whether it exists.
func (c *Counters) Get(key string) (uint64, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.get(key)
}

// Set stores v under key. It is persisted by the Writer's next transaction
// (any Batch, Ack, Flush or Close).
func (c *Counters) Set(key string, v uint64) {
	c.mu.Lock()
	c.set(key, v)
	c.mu.Unlock()
}

// Next returns the value of key (0 when absent) and stores value+1: the
// first call on a new key returns 0, the next 1, and so on.
func (c *Counters) Next(key string) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, _, err := c.get(key)
	if err != nil {
		return 0, err
	}
	c.set(key, v+1)
	return v, nil
}

// Assign returns the value stored under key; when there is none, it takes
// Next(counterKey), stores it under key and reports isNew. Both happen
// atomically with respect to other callers.
func (c *Counters) Assign(key, counterKey string) (v uint64, isNew bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok, err := c.get(key)
	if err != nil || ok {
		return v, false, err
	}
	n, _, err := c.get(counterKey)
	if err != nil {
		return 0, false, err
	}
	c.set(counterKey, n+1)
	c.set(key, n)
	return n, true, nil
}

// takeDirty hands the changed values to the committer.
func (c *Counters) takeDirty() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.dirty) == 0 {
		return nil
	}
	d := c.dirty
	c.inflight = d
	c.dirty = make(map[string]uint64)
	return d
}

// committedDirty moves the values of a successful commit to the cache.
func (c *Counters) committedDirty(d map[string]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range d {
		if _, again := c.dirty[k]; !again {
			c.remember(k, v)
		}
	}
	c.inflight = nil
}

// restoreDirty puts back the values of a failed commit (unless changed
// since), so the next commit writes them.
func (c *Counters) restoreDirty(d map[string]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range d {
		if _, again := c.dirty[k]; !again {
			c.dirty[k] = v
		}
	}
	c.inflight = nil
}

// Scan calls fn for every key starting with prefix and its current value
// (values not yet committed included), in no particular order.
func (c *Counters) Scan(prefix string, fn func(key string, v uint64)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	found := make(map[string]uint64)
	err := c.w.db.bolt.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(c.bucket)
		if bk == nil {
			return nil
		}
		p := []byte(prefix)
		cur := bk.Cursor()
		for k, v := cur.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = cur.Next() {
			if len(v) != 8 {
				return fmt.Errorf("key %q: bad value length %d", k, len(v))
			}
			found[string(k)] = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: scan counters %s/%q: %w", c.name, prefix, err)
	}
	for _, m := range []map[string]uint64{c.inflight, c.dirty} {
		for k, v := range m {
			if strings.HasPrefix(k, prefix) {
				found[k] = v
			}
		}
	}
	for k, v := range found {
		fn(k, v)
	}
	return nil
}
