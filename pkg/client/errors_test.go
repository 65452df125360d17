package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Bodies copied from docs/rocketchat-api.md §0.3 (status mapping), §1.4 (2FA),
// §5.4 and §5.7 (team errors) and §6.5 (the 429).
const (
	body401          = `{"success":false,"error":"You must be logged in to do this.","status":"error","message":"You must be logged in to do this."}`
	body403Mw        = `{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}`
	body403Handler   = `{"success":false,"error":"unauthorized"}`
	body400NotAllow  = `{"success":false,"error":"This is an enterprise feature [error-action-not-allowed]","errorType":"error-action-not-allowed"}`
	body400TeamGone  = `{"success":false,"error":"team-does-not-exist"}`
	body400LastOwner = `{"success":false,"error":"last-owner-can-not-be-removed"}`
	body400TOTP      = `{"success":false,"error":"TOTP Required [totp-required]","errorType":"totp-required","details":{"method":"password","codeGenerated":false,"availableMethods":[]}}`
	body429          = `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 42 seconds before trying this endpoint again. [error-too-many-requests]"}`
	body400Invalid   = `{"success":false,"errorType":"error-invalid-params","error":"must have required property 'role'"}`
	body400UserGone  = `{"success":false,"error":"[user-not-found]","errorType":"user-not-found"}`
	body404          = `{"success":false,"error":"Resource not found"}`
	bodyHTML502      = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)

func TestNewAPIError(t *testing.T) {
	tests := []struct {
		name       string
		endpoint   string
		status     int
		body       string
		wantCode   codes.Code
		wantType   string
		wantMsg    string   // exact Message, if set
		wantPerm   string   // exact Permission
		errHas     []string // substrings of Error()
		errHasNot  []string
		wantDetail string // exact Details JSON, if set
	}{
		{
			name: "401 not logged in", endpoint: "users.list", status: 401, body: body401,
			wantCode: codes.Unauthenticated, wantMsg: "You must be logged in to do this.",
			errHas: []string{"401", "users.list", "personal access token"},
		},
		{
			name: "403 middleware permission failure", endpoint: "teams.listAll", status: 403, body: body403Mw,
			wantCode: codes.PermissionDenied, wantType: "error-unauthorized", wantPerm: "view-all-teams",
			errHas: []string{"403", `"view-all-teams"`},
		},
		{
			name: "403 handler forbidden", endpoint: "teams.members", status: 403, body: body403Handler,
			wantCode: codes.PermissionDenied, wantType: "unauthorized", wantMsg: "unauthorized", wantPerm: "view-all-teams",
			errHas: []string{`"view-all-teams"`},
		},
		{
			name: "403 on endpoint without known permission", endpoint: "roles.list", status: 403, body: body403Mw,
			wantCode: codes.PermissionDenied, wantType: "error-unauthorized", wantPerm: "",
			errHas: []string{"lacks a permission this call needs"},
		},
		{
			name: "400 error-action-not-allowed: missing permission", endpoint: "users.create", status: 400,
			body:     `{"success":false,"error":"Adding user is not allowed [error-action-not-allowed]","errorType":"error-action-not-allowed","details":{"method":"insertOrUpdateUser","action":"Adding_user"}}`,
			wantCode: codes.PermissionDenied, wantType: "error-action-not-allowed", wantPerm: "create-user",
			errHas:     []string{`"create-user"`},
			wantDetail: `{"method":"insertOrUpdateUser","action":"Adding_user"}`,
		},
		{
			name: "400 error-action-not-allowed: enterprise licence", endpoint: "users.create", status: 400, body: body400NotAllow,
			wantCode: codes.FailedPrecondition, wantType: "error-action-not-allowed", wantPerm: "",
			errHas: []string{"enterprise feature"}, errHasNot: []string{"permission"},
		},
		{
			name: "400 error-not-allowed: permission", endpoint: "roles.addUserToRole", status: 400,
			body:     `{"success":false,"error":"Not allowed [error-not-allowed]","errorType":"error-not-allowed"}`,
			wantCode: codes.PermissionDenied, wantType: "error-not-allowed", wantPerm: "access-permissions",
		},
		{
			name: "400 error-action-not-allowed: last-admin guard", endpoint: "users.setActiveStatus", status: 400,
			body:     `{"success":false,"error":"Leaving the app without an active admin is not allowed [error-action-not-allowed]","errorType":"error-action-not-allowed"}`,
			wantCode: codes.FailedPrecondition, wantType: "error-action-not-allowed", wantPerm: "",
		},
		{
			name: "400 roles.addUserToRole not-authorized", endpoint: "roles.addUserToRole", status: 400,
			body:     `{"success":false,"error":"Not Authorized [not-authorized]"}`,
			wantCode: codes.PermissionDenied, wantType: "not-authorized", wantPerm: "access-permissions",
		},
		{
			name: "400 bare team error team-does-not-exist", endpoint: "teams.members", status: 400, body: body400TeamGone,
			wantCode: codes.InvalidArgument, wantType: "team-does-not-exist", wantMsg: "team-does-not-exist",
		},
		{
			name: "400 bare team error last-owner", endpoint: "teams.removeMember", status: 400, body: body400LastOwner,
			wantCode: codes.InvalidArgument, wantType: "last-owner-can-not-be-removed", wantMsg: "last-owner-can-not-be-removed",
		},
		{
			name: "400 totp-required", endpoint: "users.update", status: 400, body: body400TOTP,
			wantCode: codes.FailedPrecondition, wantType: "totp-required", wantMsg: "TOTP Required [totp-required]",
			errHas:     []string{"Ignore Two Factor Authentication"},
			wantDetail: `{"method":"password","codeGenerated":false,"availableMethods":[]}`,
		},
		{
			name: "400 totp-invalid", endpoint: "users.update", status: 400,
			body:     `{"success":false,"error":"TOTP Invalid [totp-invalid]","errorType":"totp-invalid"}`,
			wantCode: codes.FailedPrecondition, wantType: "totp-invalid",
		},
		{
			name: "400 query validation", endpoint: "roles.getUsersInRole", status: 400, body: body400Invalid,
			wantCode: codes.InvalidArgument, wantType: "error-invalid-params",
		},
		{
			name: "400 Meteor error without reason", endpoint: "teams.addMembers", status: 400, body: body400UserGone,
			wantCode: codes.InvalidArgument, wantType: "user-not-found", wantMsg: "[user-not-found]",
		},
		{
			name: "400 old-server rate limit", endpoint: "users.list", status: 400,
			body:     `{"success":false,"error":"Error, too many requests. [error-too-many-requests]","errorType":"error-too-many-requests"}`,
			wantCode: codes.Unavailable, wantType: "error-too-many-requests",
		},
		{
			name: "404 not found", endpoint: "users.info", status: 404, body: body404,
			wantCode: codes.NotFound, wantMsg: "Resource not found",
		},
		{
			name: "408", endpoint: "users.list", status: 408, body: ``,
			wantCode: codes.DeadlineExceeded,
		},
		{
			name: "429 body", endpoint: "users.list", status: 429, body: body429,
			wantCode: codes.Unavailable, wantType: "error-too-many-requests",
			errHas: []string{"429", "42 seconds"},
		},
		{
			name: "500 JSON", endpoint: "users.list", status: 500, body: `{"success":false,"error":"Internal server error"}`,
			wantCode: codes.Unavailable, wantMsg: "Internal server error",
		},
		{
			name: "502 HTML from a proxy", endpoint: "users.list", status: 502, body: bodyHTML502,
			wantCode: codes.Unavailable, wantMsg: "Bad Gateway",
			errHas: []string{"502", "Bad Gateway"}, errHasNot: []string{"<html", "nginx"},
		},
		{
			name: "503 empty", endpoint: "users.list", status: 503, body: ``,
			wantCode: codes.Unavailable, wantMsg: "Service Unavailable",
		},
		{
			name: "504 plain text", endpoint: "teams.listAll", status: 504, body: "upstream timed out",
			wantCode: codes.Unavailable, wantMsg: "Gateway Timeout",
		},
		{
			name: "401 HTML", endpoint: "me", status: 401, body: "<html>login</html>",
			wantCode: codes.Unauthenticated, wantMsg: "Unauthorized",
		},
		{
			name: "400 error is an object", endpoint: "users.list", status: 400, body: `{"success":false,"error":{"code":1}}`,
			wantCode: codes.InvalidArgument, wantMsg: `{"code":1}`,
		},
		{
			name: "400 message only", endpoint: "users.list", status: 400, body: `{"status":"error","message":"Something"}`,
			wantCode: codes.InvalidArgument, wantMsg: "Something", wantType: "Something",
		},
		{
			name: "JSON null body", endpoint: "users.list", status: 400, body: `null`,
			wantCode: codes.InvalidArgument, wantMsg: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAPIError(http.MethodGet, tt.endpoint, tt.status, []byte(tt.body), nil)
			if e.StatusCode != tt.status || e.Endpoint != tt.endpoint || e.Method != http.MethodGet {
				t.Errorf("fields = %q %q %d", e.Method, e.Endpoint, e.StatusCode)
			}
			if got := e.Code(); got != tt.wantCode {
				t.Errorf("Code() = %v, want %v", got, tt.wantCode)
			}
			if tt.wantType != "" && e.ErrorType != tt.wantType {
				t.Errorf("ErrorType = %q, want %q", e.ErrorType, tt.wantType)
			}
			if (tt.wantMsg != "" || tt.body == "null") && e.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", e.Message, tt.wantMsg)
			}
			if e.Permission != tt.wantPerm {
				t.Errorf("Permission = %q, want %q", e.Permission, tt.wantPerm)
			}
			if tt.wantDetail != "" && string(e.Details) != tt.wantDetail {
				t.Errorf("Details = %s, want %s", e.Details, tt.wantDetail)
			}
			msg := e.Error()
			if msg == "" {
				t.Fatal("Error() is empty")
			}
			for _, s := range tt.errHas {
				if !strings.Contains(msg, s) {
					t.Errorf("Error() = %q, missing %q", msg, s)
				}
			}
			for _, s := range tt.errHasNot {
				if strings.Contains(msg, s) {
					t.Errorf("Error() = %q, must not contain %q", msg, s)
				}
			}

			// The code survives the SDK's view of the error, wrapped or not.
			if got := status.Code(e); got != tt.wantCode {
				t.Errorf("status.Code(err) = %v, want %v", got, tt.wantCode)
			}
			wrapped := fmt.Errorf("listing: %w", fmt.Errorf("wrap: %w", e))
			if got := status.Code(wrapped); got != tt.wantCode {
				t.Errorf("status.Code(wrapped) = %v, want %v", got, tt.wantCode)
			}
			st, ok := status.FromError(wrapped)
			if !ok || st.Code() != tt.wantCode {
				t.Errorf("status.FromError(wrapped) = %v, %v", st, ok)
			}
			if len(st.Details()) != 0 {
				t.Errorf("no rate-limit headers, yet details = %v", st.Details())
			}
			var back *APIError
			if !errors.As(wrapped, &back) || back != e {
				t.Error("errors.As does not find the APIError through wrapping")
			}
		})
	}
}

func TestAPIErrorRateLimitDetail(t *testing.T) {
	const resetMs = int64(1767225600123) // 2026-01-01T00:00:00.123Z
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "10")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", fmt.Sprint(resetMs))
	rl := parseRateLimit(h)
	if rl == nil {
		t.Fatal("parseRateLimit returned nil for valid headers")
	}

	rlDetail := func(t *testing.T, err error) *v2.RateLimitDescription {
		t.Helper()
		st, ok := status.FromError(err)
		if !ok {
			t.Fatalf("status.FromError(%v) not ok", err)
		}
		var found *v2.RateLimitDescription
		for _, d := range st.Details() {
			if rd, ok := d.(*v2.RateLimitDescription); ok {
				if found != nil {
					t.Fatal("two RateLimitDescription details")
				}
				found = rd
			}
		}
		if found == nil {
			t.Fatalf("no RateLimitDescription in %v", st.Details())
		}
		return found
	}

	t.Run("429 is OVERLIMIT with the header's reset", func(t *testing.T) {
		e := newAPIError(http.MethodGet, "users.list", 429, []byte(body429), rl)
		if e.Code() != codes.Unavailable {
			t.Fatalf("Code() = %v", e.Code())
		}
		for name, err := range map[string]error{"bare": e, "wrapped": fmt.Errorf("sync: %w", e)} {
			if status.Code(err) != codes.Unavailable {
				t.Errorf("%s: code %v", name, status.Code(err))
			}
			d := rlDetail(t, err)
			if d.GetStatus() != v2.RateLimitDescription_STATUS_OVERLIMIT {
				t.Errorf("%s: status %v, want OVERLIMIT", name, d.GetStatus())
			}
			if d.GetLimit() != 10 || d.GetRemaining() != 0 {
				t.Errorf("%s: limit/remaining = %d/%d", name, d.GetLimit(), d.GetRemaining())
			}
			if got := d.GetResetAt().AsTime().UnixMilli(); got != resetMs {
				t.Errorf("%s: ResetAt = %d ms, want %d", name, got, resetMs)
			}
		}
	})

	t.Run("429 reports remaining 0 even if the header said more", func(t *testing.T) {
		e := newAPIError(http.MethodGet, "users.list", 429, []byte(body429), &RateLimit{Limit: 10, Remaining: 3, ResetAt: time.UnixMilli(resetMs)})
		d := rlDetail(t, e)
		if d.GetStatus() != v2.RateLimitDescription_STATUS_OVERLIMIT || d.GetRemaining() != 0 {
			t.Errorf("got %v remaining %d", d.GetStatus(), d.GetRemaining())
		}
	})

	t.Run("other failure with headers is STATUS_OK", func(t *testing.T) {
		okRL := &RateLimit{Limit: 10, Remaining: 7, ResetAt: time.UnixMilli(resetMs)}
		e := newAPIError(http.MethodGet, "teams.listAll", 403, []byte(body403Mw), okRL)
		if status.Code(e) != codes.PermissionDenied {
			t.Fatalf("code %v", status.Code(e))
		}
		d := rlDetail(t, e)
		if d.GetStatus() != v2.RateLimitDescription_STATUS_OK || d.GetRemaining() != 7 || d.GetLimit() != 10 {
			t.Errorf("got %v %d/%d", d.GetStatus(), d.GetRemaining(), d.GetLimit())
		}
	})

	t.Run("429 without headers has no detail", func(t *testing.T) {
		e := newAPIError(http.MethodGet, "users.list", 429, []byte(body429), nil)
		st, _ := status.FromError(e)
		if st.Code() != codes.Unavailable || len(st.Details()) != 0 {
			t.Errorf("code %v details %v", st.Code(), st.Details())
		}
	})
}

func TestGiveUpError(t *testing.T) {
	last := newAPIError(http.MethodGet, "users.list", 503, nil, nil)
	g := &GiveUpError{Method: "GET", Endpoint: "users.list", Attempts: 5, Elapsed: 1234 * time.Millisecond, Last: last}
	for name, err := range map[string]error{"bare": g, "wrapped": fmt.Errorf("sync: %w", g)} {
		if got := status.Code(err); got != codes.Aborted {
			t.Errorf("%s: status.Code = %v, want Aborted", name, got)
		}
		var api *APIError
		if !errors.As(err, &api) || api.StatusCode != 503 {
			t.Errorf("%s: Last is not reachable with errors.As", name)
		}
	}
	msg := g.Error()
	for _, s := range []string{"users.list", "5 attempts", "1.234s", "503"} {
		if !strings.Contains(msg, s) {
			t.Errorf("Error() = %q, missing %q", msg, s)
		}
	}
}

func TestBracketCode(t *testing.T) {
	tests := map[string]string{
		"User does not have the permissions required for this action [error-unauthorized]": "error-unauthorized",
		"TOTP Required [totp-required]  ":                                                  "totp-required",
		"[user-not-found]":                                                                 "user-not-found",
		"no code":                                                                          "",
		"]":                                                                                "",
		"[]":                                                                               "",
		"a [b] c":                                                                          "",
		"x [a] [b]":                                                                        "b",
		"":                                                                                 "",
	}
	for in, want := range tests {
		if got := bracketCode(in); got != want {
			t.Errorf("bracketCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRetryAfterFromMessage(t *testing.T) {
	tests := []struct {
		msg  string
		want time.Duration
	}{
		{"Error, too many requests. Please slow down. You must wait 42 seconds before trying this endpoint again. [error-too-many-requests]", 42 * time.Second},
		{"You must wait 1 seconds before trying", time.Second},
		{"You must wait 0 seconds", 60 * time.Second},
		{"You must wait 99999 seconds", 60 * time.Second},
		{"You must wait -5 seconds", 60 * time.Second},
		{"Too Many Requests", 60 * time.Second},
		{"", 60 * time.Second},
	}
	for _, tt := range tests {
		if got := retryAfterFromMessage(tt.msg); got != tt.want {
			t.Errorf("retryAfterFromMessage(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

// The SDK sends the status over gRPC; proto.Marshal of a status whose
// message is not UTF-8 fails, and the rate-limit detail is lost with it.
func TestAPIErrorStatusIsTransmittable(t *testing.T) {
	e := newAPIError(http.MethodGet, "users.list", 429, []byte("{\"success\":false,\"error\":{\"x\":\"\xff\"}}"),
		&RateLimit{Limit: 10, ResetAt: time.Now().Add(time.Minute)})
	st, _ := status.FromError(e)
	if _, err := proto.Marshal(st.Proto()); err != nil {
		t.Fatalf("status cannot be marshalled: %v (message %q)", err, e.Error())
	}
}
