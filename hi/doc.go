// Package hi is the mediation function (MDF): it receives X2/X3 PDUs, maps
// them to ETSI TS 102 232-1 PS-PDU records per LIID and CIN, queues them
// durably per destination and delivers them over HI2/HI3 TCP to LEMFs. It
// also holds the LEMF-side receiver used by `rcds lemf`.
//
// NewMDF builds the MDF over an x1.Registry (tasks, LIIDs, destinations)
// and a store.DB (queues, counters, audit log); it is an x2x3.Sink for a
// POI in the same process and an x2x3.Handler for an x2x3.Receiver. Run
// starts one delivery worker per destination: TS 102 232-1 option
// negotiation (pDUAcknowledgement, else keep-alive confirmation), in-order
// delivery and re-delivery of everything unconfirmed after a reconnect or
// restart. NewLEMF is the agency side.
//
// README.md documents the records, the MSN → ETSI mapping, the
// confirmation logic and the queue on disk. The record types are in
// hi/etsi, the BER codec in hi/ber.
package hi
