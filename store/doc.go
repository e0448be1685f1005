// Package store keeps everything RCDS writes to disk in one bbolt file
// (DIR/rcds.db): buckets of opaque values (the X1 registry stores its tasks
// and destinations here), the append-only audit log, per-destination
// outbound queues and persisted counters (sequence numbers, CINs). It knows
// no protocol.
package store
