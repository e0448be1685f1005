// Package decoder holds the protocol-independent event model (Event, Kind),
// the Protocol interface that each application decoder implements (decoder/msnp
// is the first), the Mux that detects the protocol of each reassembled TCP
// connection by content and feeds the matching decoder, and Target, the
// matching of events against interception targets (a passport or an IP
// address/prefix) shared by `rcds decode --target` and the POI.
//
// Events are rendered by AppendJSON (the `rcds decode --format jsonl` line,
// identical to encoding/json's output for Event, without allocating) and
// AppendText. CommID is the correlation hash of a connection.
//
// It knows nothing of ETSI or tasks.
package decoder
