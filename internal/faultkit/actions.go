package faultkit

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
)

// Status answers with a status and a body, as a failing server or proxy does.
func Status(code int, contentType, body string) Action {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
		return true
	}
}

// ServerErrors are the 5xx answers of a struggling server and its proxies,
// each with the body that server or proxy sends.
var ServerErrors = map[int]Action{
	500: Status(500, "application/json", `{"success":false,"error":"Internal server error"}`),
	502: Status(502, "text/html", "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"),
	503: Status(503, "text/plain", "upstream connect error or disconnect/reset before headers"),
	504: Status(504, "", ""),
}

// Forbidden is Rocket.Chat's 403 for a caller lacking a permission: what a
// listing gets when the permission is taken away after the connector
// checked it.
var Forbidden = Status(http.StatusForbidden, "application/json",
	`{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}`)

// Burst is one ServerErrors answer per code, in order.
func Burst(codes ...int) []Action {
	out := make([]Action, len(codes))
	for i, c := range codes {
		out[i] = ServerErrors[c]
	}
	return out
}

// Reset promises a long JSON body, sends its first bytes, and resets the
// connection.
func Reset(w http.ResponseWriter, _ *http.Request) bool {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return false
	}
	partial := `{"users":[{"_id":"partialUser000001","username":"par`
	_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", 20*len(partial), partial)
	_ = buf.Flush()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
	return true
}

// Drop resets the connection without answering, as a proxy killing an
// idle upstream does.
func Drop(w http.ResponseWriter, _ *http.Request) bool {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return false
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
	return true
}

// Stall answers nothing (or, with headersFirst, the headers and a few
// bytes) until the client gives up on the attempt.
func Stall(headersFirst bool) Action {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if headersFirst {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"teams":[`)
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * AttemptTimeout):
		}
		return true
	}
}

// Endless streams a JSON body that never ends, until the client leaves.
func Endless(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"teams":[`)
	chunk := []byte(strings.Repeat(`{"_id":"x","name":"padding"},`, 64))
	deadline := time.After(10 * AttemptTimeout)
	for {
		select {
		case <-r.Context().Done():
			return true
		case <-deadline:
			return true
		default:
		}
		if _, err := w.Write(chunk); err != nil {
			return true
		}
	}
}

// JSON answers 200 application/json with body, valid JSON or not.
func JSON(body string) Action {
	return Status(http.StatusOK, "application/json", body)
}

// Rewrite lets the simulator answer, then edits the decoded JSON body (when
// the answer is a 200 that decodes); numbers stay json.Number.
func (f *Env) Rewrite(edit func(body map[string]any)) Action {
	return func(w http.ResponseWriter, r *http.Request) bool {
		inner := r.Clone(r.Context())
		inner.Header.Set(innerHeader, "1")
		rec := httptest.NewRecorder()
		f.Sim.ServeHTTP(rec, inner)
		out := rec.Body.Bytes()
		var body map[string]any
		dec := json.NewDecoder(rec.Body)
		dec.UseNumber()
		if rec.Code == http.StatusOK && dec.Decode(&body) == nil {
			edit(body)
			if b, err := json.Marshal(body); err == nil {
				out = b
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(out)
		return true
	}
}

// SharedBudget429 is the 429 a Rocket.Chat server sends when another client
// behind the same IP spent the endpoint's budget: headers say the window
// resets in 150ms. It stores that reset time in *resetAt, so a test can
// check the retry waited for it.
func SharedBudget429(resetAt *time.Time) Action {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		reset := time.Now().Add(150 * time.Millisecond).UnixMilli()
		*resetAt = time.UnixMilli(reset)
		h := w.Header()
		h.Set("X-RateLimit-Limit", "10")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 1 seconds before trying this endpoint again. [error-too-many-requests]"}`)
		return true
	}
}

// Change edits the workspace under the simulator's lock, then lets the
// simulator answer the request from the changed workspace: data that
// changes while a listing is read.
func (f *Env) Change(edit func(ws *simulator.Workspace)) Action {
	return func(http.ResponseWriter, *http.Request) bool {
		f.Sim.Update(edit)
		return false
	}
}
