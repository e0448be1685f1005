// Package x1 implements ETSI TS 103 221-1 (X1, schema 1.22.1): the
// request/response messages, the HTTP(S) server with mutual TLS, the client,
// and the task and destination registry with its validation, persistence
// (through store) and change subscriptions.
package x1
