package x1

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client is an ADMF-side X1 client: it builds request documents, posts
// them to an NE's X1 endpoint (over mutual TLS when given a TLS
// configuration with a client certificate) and decodes the answers.
type Client struct {
	url     string
	hc      *http.Client
	admf    string
	ne      string
	version string
}

// NewClient returns a client for the endpoint url (e.g.
// https://host:8443/X1/NE). tlsCfg may be nil for an http:// endpoint.
func NewClient(url string, tlsCfg *tls.Config, admfID, neID string) *Client {
	tr := &http.Transport{
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &Client{
		url:     url,
		hc:      &http.Client{Transport: tr, Timeout: 30 * time.Second},
		admf:    admfID,
		ne:      neID,
		version: Version,
	}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Reply is the answer to one request.
type Reply struct {
	// Raw is the response document as received.
	Raw []byte
	// Response is its (single) response message.
	Response ResponseMessage
}

// NewUUID returns a random (version 4) UUID in the X1 form.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Do posts a raw X1 document and returns the raw answer. A status other
// than 200 is an error (the body, usually a top-level error response, is
// still returned).
func (c *Client) Do(ctx context.Context, doc []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("x1: client: %w", err)
	}
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("x1: client: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("x1: client: reading the answer: %w", err)
	}
	if len(body) > MaxDocumentSize {
		return nil, fmt.Errorf("x1: client: answer larger than %d bytes", MaxDocumentSize)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("x1: client: HTTP status %s", resp.Status)
	}
	return body, nil
}

// Send fills in the header of req (admfIdentifier, neIdentifier,
// timestamp, version and, when empty, a fresh x1TransactionId), posts it
// and decodes the answer. An ErrorResponse comes back as a *ResponseError
// together with the Reply; a top-level error as an error wrapping
// ErrTopLevel.
func (c *Client) Send(ctx context.Context, req Request) (*Reply, error) {
	h := req.Head()
	h.ADMFIdentifier, h.NEIdentifier, h.Version = c.admf, c.ne, c.version
	h.Timestamp = time.Now()
	if h.TransactionID == "" {
		h.TransactionID = NewUUID()
	}
	doc, err := EncodeRequest(req)
	if err != nil {
		return nil, err
	}
	raw, err := c.Do(ctx, doc)
	if err != nil && raw == nil {
		return nil, err
	}
	reply := &Reply{Raw: raw}
	d, derr := DecodeResponse(raw)
	if d.TopLevelError != nil {
		return reply, fmt.Errorf("x1: %s: %w", req.Type(), ErrTopLevel)
	}
	if err != nil {
		return reply, err
	}
	if derr != nil {
		return reply, derr
	}
	if len(d.Responses) != 1 {
		return reply, fmt.Errorf("x1: %s: %d response messages for one request", req.Type(), len(d.Responses))
	}
	reply.Response = d.Responses[0]
	if reply.Response.TransactionID != h.TransactionID {
		return reply, fmt.Errorf("x1: %s: answer is for transaction %q, not %q", req.Type(), reply.Response.TransactionID, h.TransactionID)
	}
	if reply.Response.Type == "ErrorResponse" {
		e := reply.Response.Error
		return reply, &ResponseError{RequestType: reply.Response.RequestType, Code: e.Code, Description: e.Description}
	}
	if want := responseTypeFor(req.Type()); reply.Response.Type != want {
		return reply, fmt.Errorf("x1: %s: answered with %s, not %s", req.Type(), reply.Response.Type, want)
	}
	return reply, nil
}

// Ping sends a PingRequest.
func (c *Client) Ping(ctx context.Context) (*Reply, error) { return c.Send(ctx, &PingRequest{}) }

// Keepalive sends a KeepaliveRequest.
func (c *Client) Keepalive(ctx context.Context) (*Reply, error) {
	return c.Send(ctx, &KeepaliveRequest{})
}

// CreateDestination sends a CreateDestinationRequest.
func (c *Client) CreateDestination(ctx context.Context, d Destination) (*Reply, error) {
	return c.Send(ctx, &CreateDestinationRequest{Destination: d})
}

// ModifyDestination sends a ModifyDestinationRequest.
func (c *Client) ModifyDestination(ctx context.Context, d Destination) (*Reply, error) {
	return c.Send(ctx, &ModifyDestinationRequest{Destination: d})
}

// RemoveDestination sends a RemoveDestinationRequest.
func (c *Client) RemoveDestination(ctx context.Context, did string) (*Reply, error) {
	return c.Send(ctx, &RemoveDestinationRequest{DID: did})
}

// ActivateTask sends an ActivateTaskRequest.
func (c *Client) ActivateTask(ctx context.Context, t Task) (*Reply, error) {
	return c.Send(ctx, &ActivateTaskRequest{Task: t})
}

// ModifyTask sends a ModifyTaskRequest.
func (c *Client) ModifyTask(ctx context.Context, t Task) (*Reply, error) {
	return c.Send(ctx, &ModifyTaskRequest{Task: t})
}

// DeactivateTask sends a DeactivateTaskRequest.
func (c *Client) DeactivateTask(ctx context.Context, xid string) (*Reply, error) {
	return c.Send(ctx, &DeactivateTaskRequest{XID: xid})
}

// DeactivateAllTasks sends a DeactivateAllTasksRequest.
func (c *Client) DeactivateAllTasks(ctx context.Context) (*Reply, error) {
	return c.Send(ctx, &DeactivateAllTasksRequest{})
}

// GetTaskDetails sends a GetTaskDetailsRequest.
func (c *Client) GetTaskDetails(ctx context.Context, xid string) (*Reply, error) {
	return c.Send(ctx, &GetTaskDetailsRequest{XID: xid})
}

// GetDestinationDetails sends a GetDestinationDetailsRequest.
func (c *Client) GetDestinationDetails(ctx context.Context, did string) (*Reply, error) {
	return c.Send(ctx, &GetDestinationDetailsRequest{DID: did})
}

// ListAllDetails sends a ListAllDetailsRequest.
func (c *Client) ListAllDetails(ctx context.Context) (*Reply, error) {
	return c.Send(ctx, &ListAllDetailsRequest{})
}

// GetAllDetails sends a GetAllDetailsRequest.
func (c *Client) GetAllDetails(ctx context.Context) (*Reply, error) {
	return c.Send(ctx, &GetAllDetailsRequest{})
}
