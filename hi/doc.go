// Package hi is the mediation function (MDF): it receives X2/X3 PDUs, maps
// them to ETSI TS 102 232-1 PS-PDU records per LIID and CIN, queues them
// durably per destination and delivers them over HI2/HI3 TCP to LEMFs. It
// also holds the LEMF-side receiver used by `rcds lemf`.
//
// The record types are in hi/etsi, the BER codec in hi/ber.
package hi
