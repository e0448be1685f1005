package x1

import "time"

// RequestType is a TS 103 221-1 RequestMessageType (the name of a request
// without its "Request" suffix, as ErrorResponse.requestMessageType has it).
type RequestType string

// The request types RCDS implements.
const (
	ReqActivateTask              RequestType = "ActivateTask"
	ReqModifyTask                RequestType = "ModifyTask"
	ReqDeactivateTask            RequestType = "DeactivateTask"
	ReqDeactivateAllTasks        RequestType = "DeactivateAllTasks"
	ReqGetTaskDetails            RequestType = "GetTaskDetails"
	ReqCreateDestination         RequestType = "CreateDestination"
	ReqModifyDestination         RequestType = "ModifyDestination"
	ReqRemoveDestination         RequestType = "RemoveDestination"
	ReqRemoveAllDestinations     RequestType = "RemoveAllDestinations"
	ReqGetDestinationDetails     RequestType = "GetDestinationDetails"
	ReqGetNEStatus               RequestType = "GetNEStatus"
	ReqGetAllDetails             RequestType = "GetAllDetails"
	ReqGetAllTaskDetails         RequestType = "GetAllTaskDetails"
	ReqGetAllDestinationDetails  RequestType = "GetAllDestinationDetails"
	ReqListAllDetails            RequestType = "ListAllDetails"
	ReqPing                      RequestType = "Ping"
	ReqKeepalive                 RequestType = "Keepalive"
	reqGetAllGenericObjectDetail RequestType = "GetAllGenericObjectDetails"
	reqReportTaskIssue           RequestType = "ReportTaskIssue"
	reqReportDestinationIssue    RequestType = "ReportDestinationIssue"
	reqReportNEIssue             RequestType = "ReportNEIssue"
	reqCreateObject              RequestType = "CreateObject"
	reqModifyObject              RequestType = "ModifyObject"
	reqGetObject                 RequestType = "GetObject"
	reqDeleteObject              RequestType = "DeleteObject"
	reqListObjectsOfType         RequestType = "ListObjectsOfType"
	reqDeleteAllObjects          RequestType = "DeleteAllObjects"
)

// supported reports whether rt is answered; the other request types of
// the schema get 1080.
func supported(rt RequestType) bool { return newRequest(rt) != nil }

// known reports whether rt is a request type of schema 1.22.1.
func known(rt RequestType) bool {
	switch rt {
	case reqGetAllGenericObjectDetail, reqReportTaskIssue, reqReportDestinationIssue, reqReportNEIssue,
		reqCreateObject, reqModifyObject, reqGetObject, reqDeleteObject, reqListObjectsOfType, reqDeleteAllObjects:
		return true
	}
	return supported(rt)
}

// changesRegistry reports whether a request of type rt changes the registry.
func changesRegistry(rt RequestType) bool {
	switch rt {
	case ReqActivateTask, ReqModifyTask, ReqDeactivateTask, ReqDeactivateAllTasks,
		ReqCreateDestination, ReqModifyDestination, ReqRemoveDestination, ReqRemoveAllDestinations:
		return true
	}
	return false
}

// Header is the common part of every X1 request and response message
// (X1RequestMessage / X1ResponseMessage).
type Header struct {
	ADMFIdentifier string
	NEIdentifier   string
	Timestamp      time.Time
	Version        string
	TransactionID  string
}

// Request is one x1RequestMessage. It is a sealed interface: the
// alternatives are the *Request types of this package.
type Request interface {
	// Type is the request's RequestMessageType.
	Type() RequestType
	// Head returns the message header.
	Head() *Header
	sealed()
}

// The request alternatives. Task requests carry the task as the registry
// stores it; fields the registry sets (Activated, Modified, ...) are ignored.
type (
	ActivateTaskRequest struct {
		Header
		Task Task
	}
	ModifyTaskRequest struct {
		Header
		Task Task
	}
	DeactivateTaskRequest struct {
		Header
		XID string
	}
	DeactivateAllTasksRequest struct{ Header }
	GetTaskDetailsRequest     struct {
		Header
		XID string
	}
	CreateDestinationRequest struct {
		Header
		Destination Destination
	}
	ModifyDestinationRequest struct {
		Header
		Destination Destination
	}
	RemoveDestinationRequest struct {
		Header
		DID string
	}
	RemoveAllDestinationsRequest struct{ Header }
	GetDestinationDetailsRequest struct {
		Header
		DID string
	}
	GetNEStatusRequest              struct{ Header }
	GetAllDetailsRequest            struct{ Header }
	GetAllTaskDetailsRequest        struct{ Header }
	GetAllDestinationDetailsRequest struct{ Header }
	ListAllDetailsRequest           struct{ Header }
	PingRequest                     struct{ Header }
	KeepaliveRequest                struct{ Header }
)

func (*ActivateTaskRequest) Type() RequestType          { return ReqActivateTask }
func (*ModifyTaskRequest) Type() RequestType            { return ReqModifyTask }
func (*DeactivateTaskRequest) Type() RequestType        { return ReqDeactivateTask }
func (*DeactivateAllTasksRequest) Type() RequestType    { return ReqDeactivateAllTasks }
func (*GetTaskDetailsRequest) Type() RequestType        { return ReqGetTaskDetails }
func (*CreateDestinationRequest) Type() RequestType     { return ReqCreateDestination }
func (*ModifyDestinationRequest) Type() RequestType     { return ReqModifyDestination }
func (*RemoveDestinationRequest) Type() RequestType     { return ReqRemoveDestination }
func (*RemoveAllDestinationsRequest) Type() RequestType { return ReqRemoveAllDestinations }
func (*GetDestinationDetailsRequest) Type() RequestType { return ReqGetDestinationDetails }
func (*GetNEStatusRequest) Type() RequestType           { return ReqGetNEStatus }
func (*GetAllDetailsRequest) Type() RequestType         { return ReqGetAllDetails }
func (*GetAllTaskDetailsRequest) Type() RequestType     { return ReqGetAllTaskDetails }
func (*GetAllDestinationDetailsRequest) Type() RequestType {
	return ReqGetAllDestinationDetails
}
func (*ListAllDetailsRequest) Type() RequestType { return ReqListAllDetails }
func (*PingRequest) Type() RequestType           { return ReqPing }
func (*KeepaliveRequest) Type() RequestType      { return ReqKeepalive }

func (h *Header) Head() *Header { return h }
func (*Header) sealed()         {}

// newRequest returns an empty request of type rt.
func newRequest(rt RequestType) Request {
	switch rt {
	case ReqActivateTask:
		return &ActivateTaskRequest{}
	case ReqModifyTask:
		return &ModifyTaskRequest{}
	case ReqDeactivateTask:
		return &DeactivateTaskRequest{}
	case ReqDeactivateAllTasks:
		return &DeactivateAllTasksRequest{}
	case ReqGetTaskDetails:
		return &GetTaskDetailsRequest{}
	case ReqCreateDestination:
		return &CreateDestinationRequest{}
	case ReqModifyDestination:
		return &ModifyDestinationRequest{}
	case ReqRemoveDestination:
		return &RemoveDestinationRequest{}
	case ReqRemoveAllDestinations:
		return &RemoveAllDestinationsRequest{}
	case ReqGetDestinationDetails:
		return &GetDestinationDetailsRequest{}
	case ReqGetNEStatus:
		return &GetNEStatusRequest{}
	case ReqGetAllDetails:
		return &GetAllDetailsRequest{}
	case ReqGetAllTaskDetails:
		return &GetAllTaskDetailsRequest{}
	case ReqGetAllDestinationDetails:
		return &GetAllDestinationDetailsRequest{}
	case ReqListAllDetails:
		return &ListAllDetailsRequest{}
	case ReqPing:
		return &PingRequest{}
	case ReqKeepalive:
		return &KeepaliveRequest{}
	}
	return nil
}

// OK is the value of a positive response's oK element.
const OK = "AcknowledgedAndCompleted"

// ErrorInfo is an ErrorInformation.
type ErrorInfo struct {
	Code        ErrorCode
	Description string
}

// TaskStatus is the registry's TaskStatus of a task (GetTaskDetails).
type TaskStatus struct {
	ProvisioningStatus     string // "complete" for every stored task
	TimeOfLastModification time.Time
	NumberOfModifications  int
}

// ResponseMessage is one x1ResponseMessage, written by the server and read
// by the client. Type is the xsi:type's local name ("PingResponse",
// "ErrorResponse", ...); the fields set depend on it.
type ResponseMessage struct {
	Header
	Type string
	// OK is set on the plain positive responses.
	OK string
	// RequestType and Error are set on an ErrorResponse.
	RequestType RequestType
	Error       *ErrorInfo
	// Task is set on GetTaskDetailsResponse; Destination on
	// GetDestinationDetailsResponse.
	Task        *Task
	Destination *Destination
	// Tasks and Destinations are set on GetAllDetailsResponse and the
	// GetAll{Task,Destination}DetailsResponses.
	Tasks        []Task
	Destinations []Destination
	// XIDs and DIDs are set on ListAllDetailsResponse.
	XIDs, DIDs []string
	// NEStatus is set on GetNEStatusResponse and GetAllDetailsResponse.
	NEStatus string
}

// Document is a decoded response document: either TopLevelError is set
// (an X1TopLevelErrorResponse) or Responses holds the X1Response messages.
type Document struct {
	TopLevelError *Header
	Responses     []ResponseMessage
}

// responseTypeFor is the xsi:type of the positive response to rt.
func responseTypeFor(rt RequestType) string { return string(rt) + "Response" }
