package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// APIError is a failed answer from Rocket.Chat. It carries the gRPC code the
// SDK acts on (through GRPCStatus), so callers can wrap it with %w freely.
type APIError struct {
	Method     string
	Endpoint   string // e.g. "users.list"
	StatusCode int
	// Message is the server's "error" text, ErrorType its "errorType".
	Message   string
	ErrorType string
	Details   json.RawMessage
	// RateLimit is set when the answer carried X-RateLimit-* headers.
	RateLimit *RateLimit
	// Permission names the permission the endpoint needs, when the failure
	// is a permission failure and the endpoint's requirement is known.
	Permission string
}

// Error never includes request headers, so it cannot leak the token.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rocket.chat %s %s: %d", e.Method, e.Endpoint, e.StatusCode)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	switch e.Code() {
	case codes.Unauthenticated:
		b.WriteString(" (the auth token or user id is wrong or revoked: create a new personal access token under My Account > Personal Access Tokens)")
	case codes.PermissionDenied:
		if e.Permission != "" {
			fmt.Fprintf(&b, " (the token's user lacks the %q permission: give it the admin role or a role that holds %q)", e.Permission, e.Permission)
		} else {
			b.WriteString(" (the token's user lacks a permission this call needs)")
		}
	case codes.FailedPrecondition:
		if e.ErrorType == "totp-required" {
			b.WriteString(" (this call asks for two-factor authentication: create the personal access token with \"Ignore Two Factor Authentication\")")
		}
	default:
	}
	return b.String()
}

// Code maps the answer to the gRPC code that makes the SDK do the right thing:
// wait and retry what is transient, stop on what is not.
func (e *APIError) Code() codes.Code {
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return codes.Unauthenticated
	case e.StatusCode == http.StatusForbidden:
		return codes.PermissionDenied
	case e.StatusCode == http.StatusTooManyRequests:
		return codes.Unavailable
	case e.StatusCode == http.StatusRequestTimeout:
		return codes.DeadlineExceeded
	case e.StatusCode >= 500:
		return codes.Unavailable
	case e.StatusCode == http.StatusNotFound:
		return codes.NotFound
	}
	switch e.ErrorType {
	case "not-authorized", "error-not-authorized", "error-unauthorized":
		return codes.PermissionDenied
	case "error-action-not-allowed", "error-not-allowed":
		// Rocket.Chat uses these codes both for missing permissions and for
		// its guards (last admin, rocket.cat, federated users).
		if isPermissionRefusal(e.Message) {
			return codes.PermissionDenied
		}
		return codes.FailedPrecondition
	case "totp-required", "totp-invalid", "totp-max-attempts":
		return codes.FailedPrecondition
	case "error-too-many-requests":
		return codes.Unavailable
	}
	return codes.InvalidArgument
}

// GRPCStatus lets status.FromError and status.Code see the mapped code, with
// a RateLimitDescription detail when the server sent rate-limit headers.
func (e *APIError) GRPCStatus() *status.Status {
	st := status.New(e.Code(), e.Error())
	if e.RateLimit == nil {
		return st
	}
	if withDetails, err := st.WithDetails(e.RateLimit.description(e.StatusCode == http.StatusTooManyRequests)); err == nil {
		return withDetails
	}
	return st
}

// RateLimit is what the X-RateLimit-* headers said about one endpoint.
type RateLimit struct {
	Limit     int
	Remaining int
	ResetAt   time.Time
}

func (r *RateLimit) description(over bool) *v2.RateLimitDescription {
	st := v2.RateLimitDescription_STATUS_OK
	remaining := int64(r.Remaining)
	if over {
		st = v2.RateLimitDescription_STATUS_OVERLIMIT
		remaining = 0
	}
	return v2.RateLimitDescription_builder{
		Status:    st,
		Limit:     int64(r.Limit),
		Remaining: remaining,
		ResetAt:   timestamppb.New(r.ResetAt),
	}.Build()
}

// GiveUpError is returned when an endpoint kept failing transiently past the
// client's retry budget. Its code is Aborted, not Unavailable: the SDK retries
// Unavailable forever, and the budget is what bounds a sync against a broken server.
type GiveUpError struct {
	Method   string
	Endpoint string
	Attempts int
	Elapsed  time.Duration
	Last     error
}

func (e *GiveUpError) Error() string {
	return fmt.Sprintf("rocket.chat %s %s: giving up after %d attempts over %s: %v",
		e.Method, e.Endpoint, e.Attempts, e.Elapsed.Round(time.Millisecond), e.Last)
}

func (e *GiveUpError) Unwrap() error { return e.Last }

// GRPCStatus reports Aborted so the sync stops instead of looping.
func (e *GiveUpError) GRPCStatus() *status.Status {
	return status.New(codes.Aborted, e.Error())
}

// errorBody is the JSON shape of Rocket.Chat's failure answers.
type errorBody struct {
	Success   *bool           `json:"success"`
	Error     json.RawMessage `json:"error"`
	ErrorType string          `json:"errorType"`
	Message   string          `json:"message"`
	Details   json.RawMessage `json:"details"`
}

// newAPIError builds an APIError from a non-2xx answer. The body is parsed
// leniently: servers and proxies answer errors in many shapes.
func newAPIError(method, endpoint string, statusCode int, body []byte, rl *RateLimit) *APIError {
	e := &APIError{Method: method, Endpoint: endpoint, StatusCode: statusCode, RateLimit: rl}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		var msg string
		if json.Unmarshal(eb.Error, &msg) != nil {
			msg = strings.TrimSpace(string(eb.Error))
		}
		if msg == "" {
			msg = eb.Message
		}
		// The message ends up in gRPC statuses, which must be valid UTF-8.
		e.Message = strings.ToValidUTF8(msg, "\uFFFD")
		e.ErrorType = eb.ErrorType
		e.Details = eb.Details
	} else {
		e.Message = http.StatusText(statusCode)
	}
	if e.ErrorType == "" {
		e.ErrorType = bracketCode(e.Message)
	}
	if e.ErrorType == "" && !strings.Contains(e.Message, " ") {
		// Team service errors are bare codes such as "team-does-not-exist".
		e.ErrorType = e.Message
	}
	if e.Code() == codes.PermissionDenied {
		e.Permission = endpointPermissions[endpoint]
	}
	return e
}

// permissionRefusals are the messages Rocket.Chat gives, with
// error-action-not-allowed or error-not-allowed, when the caller lacks a
// permission (as opposed to hitting a guard).
var permissionRefusals = []string{
	"Not allowed",
	"Not Authorized",
	"Adding user is not allowed",
	"Assigning admin is not allowed",
	"Accessing permissions is not allowed",
	"Editing user is not allowed",
	"User does not have the permissions",
}

func isPermissionRefusal(msg string) bool {
	for _, p := range permissionRefusals {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// bracketCode extracts "code" from messages that end in "[code]".
func bracketCode(msg string) string {
	msg = strings.TrimSpace(msg)
	if !strings.HasSuffix(msg, "]") {
		return ""
	}
	i := strings.LastIndex(msg, "[")
	if i < 0 {
		return ""
	}
	return msg[i+1 : len(msg)-1]
}

// RedirectError is returned when the server redirects to another host or
// scheme. The request is not followed, so the credentials stay at home.
type RedirectError struct{ Target string }

func (e *RedirectError) Error() string {
	return fmt.Sprintf("the server redirected to %s, another host or scheme; credentials are only sent to base-url: "+
		"set base-url to the address it redirects to if that is the real workspace", e.Target)
}

// GRPCStatus marks a refused redirect as a configuration problem, not retried.
func (e *RedirectError) GRPCStatus() *status.Status {
	return status.New(codes.FailedPrecondition, e.Error())
}

// NotRocketChatError means the server answered something other than JSON,
// typically an HTML page: base-url does not point at Rocket.Chat's API.
type NotRocketChatError struct {
	Endpoint    string
	ContentType string
}

func (e *NotRocketChatError) Error() string {
	return fmt.Sprintf("rocket.chat %s answered %q instead of JSON: check that base-url is the address of the Rocket.Chat workspace (the one you open in a browser)", e.Endpoint, e.ContentType)
}

// GRPCStatus marks a non-JSON answer as a configuration problem, not retried.
func (e *NotRocketChatError) GRPCStatus() *status.Status {
	return status.New(codes.FailedPrecondition, e.Error())
}

// CertificateError means the server's TLS certificate is not trusted.
// Retrying cannot help, and verification is never switched off.
type CertificateError struct {
	Endpoint string
	Err      error
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("rocket.chat %s: the server's TLS certificate is not trusted (%v): if the workspace uses a private CA, "+
		"set SSL_CERT_FILE to a PEM bundle that includes it", e.Endpoint, e.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// GRPCStatus marks an untrusted certificate as a configuration problem.
func (e *CertificateError) GRPCStatus() *status.Status {
	return status.New(codes.FailedPrecondition, e.Error())
}

func isCertificateError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalid          x509.CertificateInvalidError
		hostname         x509.HostnameError
		verification     *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verification)
}

// transportError is a failure to get a readable answer: worth retrying.
type transportError struct {
	method, endpoint string
	err              error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("rocket.chat %s %s: %v", e.method, e.endpoint, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// GRPCStatus reports Unavailable: the server may be back on the next try.
func (e *transportError) GRPCStatus() *status.Status {
	return status.New(codes.Unavailable, e.Error())
}

func isTransient(err error) bool {
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500 || apiErr.StatusCode == http.StatusRequestTimeout
	}
	return false
}

// MayHaveApplied reports whether a change failed after it reached the
// server (a dropped connection, a timeout, a 500 from Rocket.Chat itself):
// the client does not send such a change again, since the server may have
// applied it. The caller can check the state and decide.
func MayHaveApplied(err error) bool {
	return isTransient(err) && !mayRetry(&request{method: http.MethodPost}, err)
}
