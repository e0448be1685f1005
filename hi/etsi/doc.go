// Package etsi defines the ETSI handover record types used by RCDS: TS 102
// 232-1 PS-PDU (LI-PS-PDU version33), TS 102 232-2 MessagingIRI and
// MessagingCC (EmailPDU version19 style messaging), and TS 101 671
// HI2Operations IRI (version18), with their BER encoding and decoding.
// CHOICE types are sealed interfaces.
package etsi
