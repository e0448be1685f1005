package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned when a key is absent.
var ErrNotFound = errors.New("store: not found")

// DB is the project's one bbolt file.
type DB struct {
	bolt *bolt.DB
}

// FileName is the name of the database file inside the data directory.
const FileName = "rcds.db"

// Open opens (creating if needed) DIR/rcds.db.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{
		Timeout: 5 * time.Second,
		// The freelist is rebuilt on open instead of written at every
		// commit (as etcd does): fewer pages per fsync on the queue hot path.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	return &DB{bolt: b}, nil
}

// Close closes the file.
func (db *DB) Close() error { return db.bolt.Close() }

// Bolt exposes the underlying handle to this package's other files' callers
// that need multi-bucket transactions (queues). Keep its use inside store.
func (db *DB) bbolt() *bolt.DB { return db.bolt }

// Put stores value under key in bucket.
func (db *DB) Put(bucket, key string, value []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), value)
	})
}

// Get returns a copy of the value under key, or ErrNotFound.
func (db *DB) Get(bucket, key string) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// Delete removes key from bucket; deleting an absent key is not an error.
func (db *DB) Delete(bucket, key string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.Delete([]byte(key))
	})
}

// ForEach calls fn for every key of bucket in key order. The slices are
// only valid during the call.
func (db *DB) ForEach(bucket string, fn func(key string, value []byte) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
	})
}

// Batch applies several puts and deletes in one transaction: Put entries
// with a nil Value delete the key.
type Op struct {
	Bucket, Key string
	Value       []byte
}

// Apply runs ops atomically.
func (db *DB) Apply(ops ...Op) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, op := range ops {
			b, err := tx.CreateBucketIfNotExists([]byte(op.Bucket))
			if err != nil {
				return err
			}
			if op.Value == nil {
				err = b.Delete([]byte(op.Key))
			} else {
				err = b.Put([]byte(op.Key), op.Value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

const auditBucket = "audit"

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Seq  uint64
	Time time.Time
	// Data is the caller's encoding of the entry (JSON in practice).
	Data []byte
}

// Audit appends one entry to the audit log (in the same transaction-safe
// file as everything else) and returns its sequence number.
func (db *DB) Audit(data []byte) (uint64, error) {
	var seq uint64
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(auditBucket))
		if err != nil {
			return err
		}
		seq, err = b.NextSequence()
		if err != nil {
			return err
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		v := make([]byte, 8+len(data))
		binary.BigEndian.PutUint64(v, uint64(time.Now().UnixNano()))
		copy(v[8:], data)
		return b.Put(k[:], v)
	})
	if err != nil {
		return 0, fmt.Errorf("store: audit: %w", err)
	}
	return seq, nil
}

// AuditLog returns the entries with sequence number > after, in order, at
// most limit (limit <= 0: all).
func (db *DB) AuditLog(after uint64, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(auditBucket))
		if b == nil {
			return nil
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], after+1)
		c := b.Cursor()
		for key, v := c.Seek(k[:]); key != nil; key, v = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			if len(v) < 8 {
				continue
			}
			out = append(out, AuditEntry{
				Seq:  binary.BigEndian.Uint64(key),
				Time: time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(),
				Data: append([]byte(nil), v[8:]...),
			})
		}
		return nil
	})
	return out, err
}
