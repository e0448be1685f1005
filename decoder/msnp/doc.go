// Package msnp decodes MSN Messenger (MSNP2 to MSNP18) from reassembled TCP
// byte streams into decoder events.
package msnp
