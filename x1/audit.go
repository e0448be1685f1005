package x1

import (
	"encoding/json"
	"fmt"
	"time"

	"rcds/store"
)

// AuditRecord is the JSON the registry appends to the store's audit log for
// every X1 operation, refused ones included: who (Principal: the client
// certificate subject, "insecure:<remote address>" or "file:<path>"), what
// (Operation, the IDs) and the result.
type AuditRecord struct {
	Principal     string `json:"principal"`
	Operation     string `json:"op"`
	TransactionID string `json:"transactionId,omitempty"`
	ADMF          string `json:"admf,omitempty"`
	XID           string `json:"xid,omitempty"`
	DID           string `json:"did,omitempty"`
	Result        string `json:"result"` // "ok" or "error"
	Code          int    `json:"code,omitempty"`
	Description   string `json:"description,omitempty"`
}

// Audit operations that are not X1 request types.
const (
	AuditTopLevelError        = "X1TopLevelError"      // a document answered with X1TopLevelErrorResponse
	AuditImplicitDeactivation = "ImplicitDeactivation" // a task's EndTime passed
	AuditTLSRefused           = "TLSHandshake"         // a connection refused by mutual TLS
	AuditKeepaliveMissed      = "KeepaliveMissed"      // no Keepalive within the configured period
)

// AuditEntry is one decoded audit log entry.
type AuditEntry struct {
	Seq  uint64
	Time time.Time
	AuditRecord
}

// ReadAudit returns the audit entries after sequence number after (at most
// limit; limit <= 0: all). Entries written by other parts of RCDS that do
// not decode as an AuditRecord are returned with only Seq and Time set.
func ReadAudit(db *store.DB, after uint64, limit int) ([]AuditEntry, error) {
	raw, err := db.AuditLog(after, limit)
	if err != nil {
		return nil, fmt.Errorf("x1: read audit log: %w", err)
	}
	out := make([]AuditEntry, 0, len(raw))
	for _, e := range raw {
		a := AuditEntry{Seq: e.Seq, Time: e.Time}
		_ = json.Unmarshal(e.Data, &a.AuditRecord) // foreign entries stay empty
		out = append(out, a)
	}
	return out, nil
}

// RecordAudit appends rec to the audit log (used by the server for refused
// TLS connections and by callers that act on the registry's behalf).
func RecordAudit(db *store.DB, rec AuditRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("x1: audit: %w", err)
	}
	if _, err := db.Audit(data); err != nil {
		return fmt.Errorf("x1: audit: %w", err)
	}
	return nil
}
