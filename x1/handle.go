package x1

import (
	"context"
	"fmt"
	"net/http"
)

// Handle answers one X1 request document on behalf of principal (the
// client certificate subject, "insecure:<remote address>" or
// "file:<path>") and returns the response document and the HTTP status to
// send it with. The messages of a document are independent, as
// TS 103 221-1 has it: each is applied or refused on its own, in order,
// and answered in the same order. A document that cannot be parsed (bad
// XML, a DTD, wrong root or namespace, an unknown xsi:type, a message
// without a usable x1TransactionId) is answered with an
// X1TopLevelErrorResponse and changes nothing; so is one larger than
// MaxDocumentSize (with status 413). Every message and every refused
// document is audited.
func (r *Registry) Handle(ctx context.Context, principal string, body []byte) (resp []byte, status int) {
	if len(body) > MaxDocumentSize {
		return r.topLevelError(principal, &topLevelError{reason: fmt.Sprintf("document larger than %d bytes", MaxDocumentSize)}), http.StatusRequestEntityTooLarge
	}
	msgs, top := decodeRequestDocument(body)
	if top != nil {
		return r.topLevelError(principal, top), http.StatusOK
	}
	out := make([]ResponseMessage, 0, len(msgs))
	for _, m := range msgs {
		if m.err != nil {
			rec := AuditRecord{Principal: principal, Operation: string(m.rt),
				TransactionID: m.head.TransactionID, ADMF: m.head.ADMFIdentifier}
			base := r.responseFor(m.head)
			out = append(out, r.refuse(rec, m.rt, base, m.err))
			continue
		}
		out = append(out, r.Apply(ctx, principal, m.req))
	}
	doc, err := EncodeResponse(out...)
	if err != nil {
		// Not reachable with the messages built above; answer rather than fail.
		r.log.Error("X1 response encoding failed", "err", err)
		return r.topLevelError(principal, &topLevelError{reason: err.Error()}), http.StatusInternalServerError
	}
	return doc, http.StatusOK
}

// HandleTopLevelError audits a refused document and returns the
// X1TopLevelErrorResponse for it (used by the server when the body cannot
// even be read).
func (r *Registry) HandleTopLevelError(principal, reason string) []byte {
	return r.topLevelError(principal, &topLevelError{reason: reason})
}

func (r *Registry) topLevelError(principal string, top *topLevelError) []byte {
	rec := AuditRecord{Principal: principal, Operation: AuditTopLevelError, ADMF: top.head.ADMFIdentifier,
		Result: "error", Code: int(CodeSyntax), Description: truncate(top.reason)}
	if err := RecordAudit(r.db, rec); err != nil {
		r.log.Error("X1 audit failed", "op", rec.Operation, "err", err)
	}
	r.log.Warn("X1 document refused with a top-level error", "principal", principal, "reason", truncate(top.reason))
	h := Header{ADMFIdentifier: top.head.ADMFIdentifier, NEIdentifier: r.neID, Timestamp: r.now(), Version: top.head.Version}
	if !IsVersion(h.Version) {
		h.Version = Version
	}
	return EncodeTopLevelError(h)
}
