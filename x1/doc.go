// Package x1 implements ETSI TS 103 221-1 (X1, schema 1.22.1), the
// interface over which an ADMF provisions interception tasks on a network
// element:
//
//   - the request and response messages (messages.go) with a strict,
//     bounded decoder that refuses DTDs and entities before any parsing
//     (xmltree.go, decode.go), an encoder writing schema-valid documents
//     (encode.go), and a lenient response decoder for the client
//     (decode_response.go);
//   - the Registry (registry.go): tasks and destinations, validated as
//     DESIGN.md's "X1 semantics" says, persisted in the store's bbolt file
//     with every operation in the audit log (audit.go), and change
//     subscriptions through which the POI and the MDF learn about tasks
//     synchronously, before the ADMF is answered;
//   - Handle (handle.go), which answers one X1 document: the HTTP(S)
//     Server (server.go, mutual TLS) and the --x1-request start-up files
//     both go through it;
//   - the ADMF-side Client (client.go) and a demo PKI for tests and
//     demonstrations (pki.go).
//
// See README.md for the error codes, the decisions taken where the
// standard leaves room, and the public examples that are off-spec.
package x1
