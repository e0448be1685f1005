package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ApplyAudited runs ops (as Apply does) and appends audit to the audit log
// in the same transaction: either the change and its audit entry are both
// on disk, or neither is. It returns the audit entry's sequence number.
func (db *DB) ApplyAudited(audit []byte, ops ...Op) (uint64, error) {
	var seq uint64
	err := db.bbolt().Update(func(tx *bolt.Tx) error {
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
		var err error
		seq, err = appendAudit(tx, audit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: apply audited: %w", err)
	}
	return seq, nil
}

// appendAudit writes one audit entry inside tx, in the same layout as
// Audit: key = big-endian sequence, value = big-endian UnixNano + data.
func appendAudit(tx *bolt.Tx, data []byte) (uint64, error) {
	b, err := tx.CreateBucketIfNotExists([]byte(auditBucket))
	if err != nil {
		return 0, err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	v := make([]byte, 8+len(data))
	binary.BigEndian.PutUint64(v, uint64(time.Now().UnixNano()))
	copy(v[8:], data)
	return seq, b.Put(k[:], v)
}
