package discordtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Request is one request received by the fake, as recorded by Requests.
type Request struct {
	Time      time.Time // Options.Now at arrival
	Method    string
	Path      string // path without the /api/vN prefix
	Version   string // "v9", "v10" or "" for unversioned /api/...
	Route     string // OpenAPI template, e.g. /channels/{channel_id}/messages
	Query     url.Values
	Status    int // status answered (DropAfterHandle: the one the client never got; Drop: 0)
	Body      []byte
	Header    http.Header
	ChannelID string // channel the request acted on, when known
	Faulted   bool   // answered (or dropped) by an injected fault
}

// Violation describes a request (or gateway/interaction behaviour) that a
// real Discord would reject or that breaks a documented rule.
type Violation struct {
	Kind   string // "route", "method", "auth", "query", "body", "limit", "ratelimit", "interaction", "gateway", "unimplemented", "state"
	Method string
	Path   string
	Route  string
	Detail string
}

func (v *Violation) Error() string {
	if v.Method == "" {
		return fmt.Sprintf("discord %s violation: %s", v.Kind, v.Detail)
	}
	return fmt.Sprintf("discord %s violation: %s %s: %s", v.Kind, v.Method, v.Path, v.Detail)
}

func (s *Server) violate(v *Violation) {
	s.mu.Lock()
	s.st.violations = append(s.st.violations, v)
	s.mu.Unlock()
	s.logf("%v", v)
	if s.opts.OnViolation != nil {
		s.opts.OnViolation(v)
	}
}

// apiError is a Discord JSON error response.
type apiError struct {
	status int
	code   int
	msg    string
	errors map[string]any

	rateLimited bool
	retryAfter  float64
	global      bool
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %d %s", e.status, e.code, e.msg) }

func errf(status, code int, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg}
}

var (
	errUnknownChannel     = errf(404, 10003, "Unknown Channel")
	errUnknownMessage     = errf(404, 10008, "Unknown Message")
	errUnknownGuild       = errf(404, 10004, "Unknown Guild")
	errUnknownUser        = errf(404, 10013, "Unknown User")
	errUnknownMember      = errf(404, 10007, "Unknown Member")
	errUnknownRole        = errf(404, 10011, "Unknown Role")
	errUnknownWebhook     = errf(404, 10015, "Unknown Webhook")
	errUnknownInteraction = errf(404, 10062, "Unknown interaction")
	errUnknownCommand     = errf(404, 10063, "Unknown application command")
	errEmptyMessage       = errf(400, 50006, "Cannot send an empty message")
	errCannotDM           = errf(403, 50007, "Cannot send messages to this user")
	errAlreadyAcked       = errf(400, 40060, "Interaction has already been acknowledged.")
	errThreadExists       = errf(400, 160004, "A thread has already been created for this message")
	errArchivedThread     = errf(400, 50083, "Thread is archived")
	errNotAuthor          = errf(403, 50005, "Cannot edit a message authored by another user")
)

func (e *apiError) body() map[string]any {
	if e.rateLimited {
		return map[string]any{"message": e.msg, "retry_after": math.Round(e.retryAfter*1000) / 1000, "global": e.global}
	}
	b := map[string]any{"code": e.code, "message": e.msg}
	if e.errors != nil {
		b["errors"] = e.errors
	}
	return b
}

// formError builds the 50035 "Invalid Form Body" error from field errors.
func formError(fes []fieldError) *apiError {
	root := map[string]any{}
	for _, fe := range fes {
		node := root
		for _, p := range fe.Path {
			next, ok := node[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[p] = next
			}
			node = next
		}
		list, _ := node["_errors"].([]any)
		node["_errors"] = append(list, map[string]any{"code": fe.Code, "message": fe.Message})
	}
	return &apiError{status: 400, code: 50035, msg: "Invalid Form Body", errors: root}
}

// call is the context of one REST request.
type call struct {
	s       *Server
	r       *http.Request
	now     time.Time
	method  string
	path    string
	route   string
	params  map[string]string
	query   url.Values
	payload []byte       // JSON body (payload_json for multipart), nil if none
	files   []Attachment // multipart files
	header  http.Header  // extra response headers
	chanID  string
	idx     int // index in state.requests
	pending []*Violation
	// gateway events to dispatch once the handler has returned
	dispatches []pendingDispatch
}

// violate queues a violation, reported once the handler has returned (and
// released the state lock).
func (c *call) violate(kind, detail string) {
	c.pending = append(c.pending, &Violation{Kind: kind, Method: c.method, Path: c.path, Route: c.route, Detail: detail})
}

func (c *call) decode(v any) error {
	if len(c.payload) == 0 {
		return nil
	}
	return json.Unmarshal(c.payload, v)
}

type handler func(c *call) (int, any)

var apiPrefixes = []string{"/api/v10", "/api/v9", "/api"}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		s.serveGateway(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/attachments/") {
		s.serveAttachment(w, r)
		return
	}
	path, version := "", ""
	for _, p := range apiPrefixes {
		if r.URL.Path == p || strings.HasPrefix(r.URL.Path, p+"/") {
			path, version = strings.TrimPrefix(r.URL.Path, p), strings.TrimPrefix(p, "/api/")
			if version == "/api" {
				version = ""
			}
			break
		}
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	now := s.opts.Now()
	c := &call{s: s, r: r, now: now, method: r.Method, path: path, query: r.URL.Query(), header: http.Header{}}

	s.mu.Lock()
	c.idx = len(s.st.requests)
	s.st.requests = append(s.st.requests, Request{
		Time: now, Method: r.Method, Path: path, Version: version, Query: c.query,
		Body: body, Header: r.Header.Clone(),
	})
	s.mu.Unlock()

	status, faulted := s.handle(w, c, body, path == "" && r.URL.Path != "/api")
	s.record(c, status, faulted)
	s.notify()
}

// record completes the request's entry in Requests. Faults that hang up
// call it first: the client sees the closed connection at once.
func (s *Server) record(c *call, status int, faulted bool) {
	s.mu.Lock()
	rq := &s.st.requests[c.idx]
	rq.Status, rq.Route, rq.ChannelID, rq.Faulted = status, c.route, c.chanID, faulted
	s.mu.Unlock()
}

// handle runs the pipeline and returns the status written (or, when an
// injected fault lost the response, the status the client never saw) and
// whether a fault applied.
func (s *Server) handle(w http.ResponseWriter, c *call, body []byte, notAPI bool) (int, bool) {
	var rt *specRoute
	if !notAPI {
		rt, c.params = s.spec.match(c.path)
	}
	if rt != nil {
		c.route = rt.Template
	}
	if c.params == nil {
		c.params = map[string]string{}
	}
	c.chanID = c.params["channel_id"]

	f, st, done := s.applyFault(w, c)
	if done {
		return st, true
	}
	status, resp := s.run(c, rt, body)
	for _, v := range c.pending {
		s.violate(v)
	}
	s.flushDispatches(c)
	if f != nil && f.DropAfterHandle {
		status = statusOf(status, resp)
		s.record(c, status, true)
		hangUp(w)
		return status, true
	}
	if e, ok := resp.(*apiError); ok {
		return s.writeError(w, c, e), false
	}
	return s.writeJSON(w, c, status, resp), false
}

// run checks the request and calls its handler. The answer is a status
// and a JSON value, or an *apiError.
func (s *Server) run(c *call, rt *specRoute, body []byte) (int, any) {
	if rt == nil {
		s.violate(&Violation{Kind: "route", Method: c.method, Path: c.r.URL.Path, Detail: "no such route in Discord's OpenAPI description"})
		return 0, errf(404, 0, "404: Not Found")
	}
	op := rt.ops[c.method]
	if op == nil {
		s.violate(&Violation{Kind: "method", Method: c.method, Path: c.path, Route: c.route, Detail: "method not allowed for route"})
		return 0, errf(405, 0, "405: Method Not Allowed")
	}
	if err := s.checkAuth(c); err != nil {
		return 0, err
	}
	if err := s.takeRateLimit(c); err != nil {
		return 0, err
	}
	if err := s.checkQuery(c, op); err != nil {
		return 0, err
	}
	if err := s.parseBody(c, op, body); err != nil {
		return 0, err
	}
	h := handlers[c.method+" "+c.route]
	if h == nil {
		s.violate(&Violation{Kind: "unimplemented", Method: c.method, Path: c.path, Route: c.route, Detail: "route is valid but not implemented by discordtest"})
		return 0, errf(501, 0, "discordtest: route not implemented")
	}
	return h(c)
}

// statusOf is the status writeJSON/writeError would send for an answer.
func statusOf(status int, resp any) int {
	if e, ok := resp.(*apiError); ok {
		return e.status
	}
	if status == 0 {
		return http.StatusNoContent
	}
	return status
}

func (s *Server) checkAuth(c *call) *apiError {
	if tokenRoute(c.route) {
		return nil
	}
	auth := c.r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bot ") {
		s.violate(&Violation{Kind: "auth", Method: c.method, Path: c.path, Route: c.route, Detail: "missing or non-bot Authorization header"})
		return errf(401, 0, "401: Unauthorized")
	}
	if s.opts.Token != "" && strings.TrimPrefix(auth, "Bot ") != strings.TrimPrefix(s.opts.Token, "Bot ") {
		s.violate(&Violation{Kind: "auth", Method: c.method, Path: c.path, Route: c.route, Detail: "wrong bot token"})
		return errf(401, 0, "401: Unauthorized")
	}
	return nil
}

// tokenRoute reports routes authenticated by a token in the path (webhooks,
// interaction callbacks): no bot auth, no global rate limit.
func tokenRoute(route string) bool {
	return strings.HasPrefix(route, "/webhooks/{webhook_id}/{webhook_token}") ||
		strings.HasPrefix(route, "/interactions/")
}

// parseBody extracts the JSON payload (and files) and validates it against
// the spec and Discord's documented limits.
func (s *Server) parseBody(c *call, op *specOp, body []byte) *apiError {
	ct := c.r.Header.Get("Content-Type")
	mediaType, params, _ := mime.ParseMediaType(ct)
	if len(body) == 0 {
		if op.BodyRequired {
			s.violate(&Violation{Kind: "body", Method: c.method, Path: c.path, Route: c.route, Detail: "request body is required"})
			return errf(400, 50109, "The request body contains invalid JSON.")
		}
		return nil
	}
	if len(op.bodies) == 0 {
		return nil // body ignored by Discord
	}
	switch mediaType {
	case "application/json":
		c.payload = body
	case "multipart/form-data":
		if err := c.parseMultipart(body, params["boundary"]); err != nil {
			s.violate(&Violation{Kind: "body", Method: c.method, Path: c.path, Route: c.route, Detail: "bad multipart body: " + err.Error()})
			return errf(400, 50035, "Invalid Form Body")
		}
	case "application/x-www-form-urlencoded":
		vals, _ := url.ParseQuery(string(body))
		m := map[string]string{}
		for k := range vals {
			m[k] = vals.Get(k)
		}
		c.payload, _ = json.Marshal(m)
		return nil // not schema-validated: string-typed by construction
	default:
		s.violate(&Violation{Kind: "body", Method: c.method, Path: c.path, Route: c.route, Detail: fmt.Sprintf("unsupported Content-Type %q", ct)})
		return errf(400, 50035, "Invalid Form Body")
	}
	if c.payload == nil {
		return nil
	}
	var fes []fieldError
	sch, err := s.spec.schemaFor(op, mediaType)
	if err != nil {
		s.logf("compile schema for %s %s: %v", c.method, c.route, err)
	} else if sch != nil {
		fes = validateJSON(sch, c.payload)
	}
	for _, fe := range checkLimits(c) {
		if !containsFE(fes, fe) {
			fes = append(fes, fe)
		}
	}
	if len(fes) > 0 {
		var parts []string
		for _, fe := range fes {
			parts = append(parts, fe.String())
		}
		s.violate(&Violation{Kind: "body", Method: c.method, Path: c.path, Route: c.route, Detail: strings.Join(parts, "; ")})
		return formError(fes)
	}
	return nil
}

func containsFE(list []fieldError, fe fieldError) bool {
	for _, x := range list {
		if x.String() == fe.String() {
			return true
		}
	}
	return false
}

func (c *call) parseMultipart(body []byte, boundary string) error {
	if boundary == "" {
		return fmt.Errorf("missing boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return err
		}
		name := p.FormName()
		switch {
		case name == "payload_json":
			c.payload = data
		case p.FileName() != "":
			ctype := p.Header.Get("Content-Type")
			if ctype == "" {
				ctype = "application/octet-stream"
			}
			c.files = append(c.files, Attachment{Filename: p.FileName(), ContentType: ctype, Data: data})
		}
	}
}

func (s *Server) writeError(w http.ResponseWriter, c *call, e *apiError) int {
	return s.writeJSON(w, c, e.status, e.body())
}

func (s *Server) writeJSON(w http.ResponseWriter, c *call, status int, v any) int {
	h := w.Header()
	for k, vs := range c.header {
		h[k] = vs
	}
	h.Set("Date", c.now.UTC().Format(http.TimeFormat))
	h.Set("Via", "1.1 discordtest")
	if status == http.StatusNoContent || v == nil {
		if status == 0 {
			status = http.StatusNoContent
		}
		w.WriteHeader(status)
		return status
	}
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"code":0,"message":"discordtest: marshal: `+strings.ReplaceAll(err.Error(), `"`, `'`)+`"}`)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request) {
	// /attachments/{channel}/{attachment}/{filename}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/attachments/"), "/")
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	var found *Attachment
	for _, id := range s.st.channelMsgs[parts[0]] {
		m := s.st.messages[id]
		for i := range m.Attachments {
			if m.Attachments[i].ID == parts[1] {
				a := m.Attachments[i]
				found = &a
			}
		}
	}
	s.mu.Unlock()
	if found == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", found.ContentType)
	_, _ = w.Write(found.Data)
}
