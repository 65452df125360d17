package simulator

import (
	"net/http"
	"strings"
)

// reply is what a handler answers; the server adds headers and writes it.
type reply struct {
	status int
	body   any
}

// success mirrors API.v1.success: the result object plus "success": true last.
func success(fields ...field) reply {
	return reply{http.StatusOK, object(fields).with(keySuccess, true)}
}

// failure mirrors API.v1.failure('msg'): 400 with a bare error string, no
// errorType (Team-service errors and a few handler checks answer like this).
func failure(msg string) reply {
	return reply{http.StatusBadRequest, object{{keySuccess, false}, {keyError, msg}}}
}

// failureTyped mirrors API.v1.failure('msg', 'type').
func failureTyped(msg, errorType string) reply {
	return reply{http.StatusBadRequest, object{{keySuccess, false}, {keyError, msg}, {keyErrorType, errorType}}}
}

// meteorError mirrors a thrown Meteor.Error(code, reason, details) that the
// route wrapper turns into a 400: error is "reason [code]" (just "[code]"
// when the reason is empty) and errorType the code.
func meteorError(code, reason string, details any) reply {
	msg := "[" + code + "]"
	if reason != "" {
		msg = reason + " " + msg
	}
	body := object{{keySuccess, false}, {keyError, msg}, {keyErrorType, code}}
	if details != nil {
		body = body.with("details", details)
	}
	return reply{http.StatusBadRequest, body}
}

// forbidden mirrors API.v1.forbidden() without a message (8.x keeps the
// historical "unauthorized" text until 9.0).
func forbidden() reply {
	return reply{http.StatusForbidden, object{{keySuccess, false}, {keyError, "unauthorized"}}}
}

// forbiddenMeteor is what a thrown Meteor.Error('error-unauthorized', reason)
// becomes: 403 with the reason and code, no errorType.
func forbiddenMeteor(reason string) reply {
	return reply{http.StatusForbidden, object{{keySuccess, false}, {keyError, reason + " [error-unauthorized]"}}}
}

// permissionDenied is the body of the route-level permissions middleware.
func permissionDenied() reply {
	return forbiddenMeteor("User does not have the permissions required for this action")
}

// notLoggedIn is the authentication middleware's answer; 8.x still appends
// the legacy status/message pair.
func notLoggedIn() reply {
	const msg = "You must be logged in to do this."
	return reply{http.StatusUnauthorized, object{
		{keySuccess, false}, {keyError, msg}, {keyStatus, "error"}, {keyMessage, msg},
	}}
}

// invalidQuery is the router's answer when a typed route's query schema
// fails; Ajv's messages are joined with "\n ".
func invalidQuery(msgs []string) reply {
	return reply{http.StatusBadRequest, object{
		{keySuccess, false}, {keyErrorType, "error-invalid-params"}, {keyError, strings.Join(msgs, "\n ")},
	}}
}

// invalidBody is the same for a failing body schema (note the other errorType).
func invalidBody(msgs []string) reply {
	return reply{http.StatusBadRequest, object{
		{keySuccess, false}, {keyErrorType, "invalid-params"}, {keyError, strings.Join(msgs, "\n ")},
	}}
}

// tooManyRequests mirrors API.v1.tooManyRequests(e.message) for the limiter's
// Meteor.Error: the message carries the code, and there is no errorType.
func tooManyRequests(seconds int64) reply {
	return reply{http.StatusTooManyRequests, object{
		{keySuccess, false},
		{keyError, "Error, too many requests. Please slow down. You must wait " + itoa(seconds) +
			" seconds before trying this endpoint again. [error-too-many-requests]"},
	}}
}

// methodDetails is the details object most Meteor errors of user and role
// methods carry.
func methodDetails(method string, extra ...field) object {
	return append(object{{"method", method}}, extra...)
}
