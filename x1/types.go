package x1

import (
	"strconv"
	"time"
)

// These types are the registry's view of X1, shared with the POI (x2x3) and
// the MDF (hi). The XML message structs are separate (messages*.go).

// TargetKind is the X1 TargetIdentifier alternative.
type TargetKind string

const (
	TargetEmail    TargetKind = "emailAddress" // an MSN passport, matched case-insensitively
	TargetIPv4     TargetKind = "ipv4Address"
	TargetIPv6     TargetKind = "ipv6Address"
	TargetIPv4CIDR TargetKind = "ipv4Cidr"
	TargetIPv6CIDR TargetKind = "ipv6Cidr"
)

// Target is one TargetIdentifier of a task.
type Target struct {
	Kind  TargetKind `json:"kind"`
	Value string     `json:"value"`
}

// DeliveryType is the X1 deliveryType of a task or destination.
type DeliveryType string

const (
	X2Only  DeliveryType = "X2Only"
	X3Only  DeliveryType = "X3Only"
	X2andX3 DeliveryType = "X2andX3"
)

// HasX2 and HasX3 say which streams the delivery type covers.
func (d DeliveryType) HasX2() bool { return d == X2Only || d == X2andX3 }
func (d DeliveryType) HasX3() bool { return d == X3Only || d == X2andX3 }

// HIDeliveryType is the mediationDetails deliveryType.
type HIDeliveryType string

const (
	HI2Only   HIDeliveryType = "HI2Only"
	HI3Only   HIDeliveryType = "HI3Only"
	HI2andHI3 HIDeliveryType = "HI2andHI3"
)

// MediationDetails is one warrant (LIID) of a task.
type MediationDetails struct {
	LIID         string         `json:"liid"`
	DeliveryType HIDeliveryType `json:"deliveryType"`
	// StartTime and EndTime bound the warrant; zero means unbounded.
	StartTime time.Time `json:"startTime,omitzero"`
	EndTime   time.Time `json:"endTime,omitzero"`
	// DIDs are the LEMF destinations; when the request had no listOfDIDs
	// here, the task's listOfDIDs are copied in.
	DIDs []string `json:"dids"`
}

// InWindow reports whether t is inside the warrant window.
func (m MediationDetails) InWindow(t time.Time) bool {
	if !m.StartTime.IsZero() && t.Before(m.StartTime) {
		return false
	}
	if !m.EndTime.IsZero() && !t.Before(m.EndTime) {
		return false
	}
	return true
}

// Task is an active interception task (one XID).
type Task struct {
	XID                         string             `json:"xid"` // lower-case UUID
	Targets                     []Target           `json:"targets"`
	DeliveryType                DeliveryType       `json:"deliveryType"`
	DIDs                        []string           `json:"dids"`
	Mediation                   []MediationDetails `json:"mediation"`
	ImplicitDeactivationAllowed bool               `json:"implicitDeactivationAllowed"`
	CorrelationID               string             `json:"correlationId,omitempty"`
	// ProductID and ServiceTypes are kept as received and echoed by
	// GetTaskDetails; RCDS intercepts messaging whatever they say.
	ProductID    string    `json:"productId,omitempty"`
	ServiceTypes []string  `json:"serviceTypes,omitempty"`
	Activated    time.Time `json:"activated"`
	Modified     time.Time `json:"modified,omitzero"`
	// Modifications counts the ModifyTask requests applied.
	Modifications int `json:"modifications,omitempty"`
}

// Destination is a LEMF handover endpoint (one DID).
type Destination struct {
	DID          string       `json:"did"` // lower-case UUID
	FriendlyName string       `json:"friendlyName,omitempty"`
	DeliveryType DeliveryType `json:"deliveryType"`
	// Address is "host:port" (from ipAddressAndPort or a tcp:// uri).
	Address string `json:"address"`
	// URI is the deliveryAddress uri as received ("tcp://host:port"); empty
	// when the address came as ipAddressAndPort.
	URI string `json:"uri,omitempty"`
}

// ChangeKind says what a Change is.
type ChangeKind uint8

const (
	TaskActivated ChangeKind = iota + 1
	TaskModified
	TaskDeactivated
	DestinationCreated
	DestinationModified
	DestinationRemoved
)

// String names the change kind.
func (k ChangeKind) String() string {
	switch k {
	case TaskActivated:
		return "TaskActivated"
	case TaskModified:
		return "TaskModified"
	case TaskDeactivated:
		return "TaskDeactivated"
	case DestinationCreated:
		return "DestinationCreated"
	case DestinationModified:
		return "DestinationModified"
	case DestinationRemoved:
		return "DestinationRemoved"
	}
	return "ChangeKind(" + strconv.Itoa(int(k)) + ")"
}

// Change is delivered to subscribers after a registry change is committed.
// Task is set for task changes (the old task for TaskDeactivated), Destination
// for destination changes. OldTask / OldDestination hold the previous
// version on TaskModified / DestinationModified. Subscribers must not modify
// what the pointers reference.
type Change struct {
	Kind           ChangeKind
	Task           *Task
	Destination    *Destination
	OldTask        *Task
	OldDestination *Destination
	// Implicit is set on a TaskDeactivated caused by the task's EndTime
	// passing (implicitDeactivationAllowed), not by a request.
	Implicit bool
}
