package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway opcodes.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opPresenceUpdate = 3
	opVoiceState     = 4
	opResume         = 6
	opRequestMembers = 8
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatAck   = 11
)

const maxEventLog = 1000

type gateway struct {
	mu       sync.Mutex // guards everything below; never take Server.mu while holding it
	closed   bool
	conns    map[*gwConn]bool
	sessions map[string]*gwSession
	events   []GatewayEvent // every broadcast dispatch, see GatewayEvents

	wgMu     sync.Mutex // serialises Server.wg.Add with Close
	wgClosed bool
}

func (g *gateway) init() {
	g.conns = map[*gwConn]bool{}
	g.sessions = map[string]*gwSession{}
}

type gwSession struct {
	id      string
	intents int // from identify
	seq     int64
	log     []gwEvent
	conn    *gwConn
}

type gwEvent struct {
	seq  int64
	name string
	data json.RawMessage
}

type gwConn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	sess *gwSession // set once identified/resumed; guarded by gateway.mu
}

type gwPayload struct {
	Op   int             `json:"op"`
	D    json.RawMessage `json:"d"`
	S    *int64          `json:"s"`
	T    *string         `json:"t"`
	Seq  int64           `json:"-"`
	Name string          `json:"-"`
}

func (c *gwConn) send(op int, seq int64, name string, d any) error {
	var raw json.RawMessage
	switch v := d.(type) {
	case json.RawMessage:
		raw = v
	default:
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		raw = b
	}
	p := gwPayload{Op: op, D: raw}
	if op == opDispatch {
		p.S, p.T = &seq, &name
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// tryAdd adds one to Server.wg unless the server is closing.
func (s *Server) tryAdd() bool {
	s.gw.wgMu.Lock()
	defer s.gw.wgMu.Unlock()
	if s.gw.wgClosed {
		return false
	}
	s.wg.Add(1)
	return true
}

var upgrader = websocket.Upgrader{
	CheckOrigin:     func(*http.Request) bool { return true },
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	if !s.tryAdd() {
		http.Error(w, "closing", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	q := r.URL.Query()
	if v := q.Get("v"); v != "9" && v != "10" {
		s.violate(&Violation{Kind: "gateway", Detail: fmt.Sprintf("gateway URL version v=%q (want 9 or 10)", v)})
	}
	if e := q.Get("encoding"); e != "" && e != "json" {
		s.violate(&Violation{Kind: "gateway", Detail: fmt.Sprintf("unsupported gateway encoding %q", e)})
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{ws: ws}
	s.gw.mu.Lock()
	if s.gw.closed {
		s.gw.mu.Unlock()
		ws.Close()
		return
	}
	s.gw.conns[c] = true
	s.gw.mu.Unlock()
	defer s.dropConn(c)

	if err := c.send(opHello, 0, "", map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}); err != nil {
		return
	}
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var p gwPayload
		if err := json.Unmarshal(msg, &p); err != nil {
			s.violate(&Violation{Kind: "gateway", Detail: "undecodable gateway payload: " + err.Error()})
			s.closeWith(c, 4002, "Decode error")
			return
		}
		if !s.gatewayOp(c, p) {
			return
		}
	}
}

func (s *Server) closeWith(c *gwConn, code int, text string) {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
}

func (s *Server) dropConn(c *gwConn) {
	s.gw.mu.Lock()
	delete(s.gw.conns, c)
	if c.sess != nil && c.sess.conn == c {
		c.sess.conn = nil
	}
	s.gw.mu.Unlock()
	_ = c.ws.Close()
	s.notify()
}

// gatewayOp handles one client payload; false closes the connection.
func (s *Server) gatewayOp(c *gwConn, p gwPayload) bool {
	s.gw.mu.Lock()
	identified := c.sess != nil
	s.gw.mu.Unlock()
	switch p.Op {
	case opHeartbeat:
		return c.send(opHeartbeatAck, 0, "", nil) == nil
	case opIdentify:
		if identified {
			s.violate(&Violation{Kind: "gateway", Detail: "identify sent twice on one connection"})
			s.closeWith(c, 4005, "Already authenticated")
			return false
		}
		var d struct {
			Token   string `json:"token"`
			Intents *int   `json:"intents"`
		}
		_ = json.Unmarshal(p.D, &d)
		if !s.tokenOK(d.Token) {
			s.violate(&Violation{Kind: "gateway", Detail: "identify with a wrong or missing token"})
			s.closeWith(c, 4004, "Authentication failed")
			return false
		}
		if d.Intents == nil {
			s.violate(&Violation{Kind: "gateway", Detail: "identify without intents"})
			s.closeWith(c, 4013, "Invalid intent(s)")
			return false
		}
		return s.identify(c, *d.Intents) == nil
	case opResume:
		var d struct {
			Token     string `json:"token"`
			SessionID string `json:"session_id"`
			Seq       int64  `json:"seq"`
		}
		_ = json.Unmarshal(p.D, &d)
		return s.resume(c, d.Token, d.SessionID, d.Seq) == nil
	case opPresenceUpdate, opVoiceState, opRequestMembers:
		if !identified {
			s.violate(&Violation{Kind: "gateway", Detail: fmt.Sprintf("op %d before identify", p.Op)})
			s.closeWith(c, 4003, "Not authenticated")
			return false
		}
		return true
	default:
		s.violate(&Violation{Kind: "gateway", Detail: fmt.Sprintf("unknown gateway opcode %d", p.Op)})
		s.closeWith(c, 4001, "Unknown opcode")
		return false
	}
}

func (s *Server) tokenOK(tok string) bool {
	tok = strings.TrimPrefix(tok, "Bot ")
	if tok == "" {
		return false
	}
	return s.opts.Token == "" || tok == strings.TrimPrefix(s.opts.Token, "Bot ")
}

func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) identify(c *gwConn, intents int) error {
	// Build payloads under the state lock, then send under the gateway lock.
	s.mu.Lock()
	var guilds []any
	var creates []any
	for _, id := range s.st.guildOrder {
		guilds = append(guilds, map[string]any{"id": id, "unavailable": true})
		creates = append(creates, s.guildCreateJSON(s.st.guilds[id]))
	}
	if guilds == nil {
		guilds = []any{}
	}
	user := s.userJSON(s.opts.BotUserID)
	user["verified"], user["mfa_enabled"] = true, false
	s.mu.Unlock()

	sess := &gwSession{id: newSessionID(), intents: intents}
	ready := map[string]any{
		"v": 10, "user": user, "guilds": guilds, "session_id": sess.id,
		"resume_gateway_url": s.GatewayURL(), "shard": []int{0, 1},
		"application":      map[string]any{"id": s.opts.ApplicationID, "flags": 0},
		"private_channels": []any{}, "relationships": []any{}, "presences": []any{},
		"session_type": "normal", "user_settings": map[string]any{}, "geo_ordered_rtc_regions": []any{},
	}
	s.gw.mu.Lock()
	defer func() { s.gw.mu.Unlock(); s.notify() }()
	s.gw.sessions[sess.id] = sess
	sess.conn = c
	c.sess = sess
	if err := s.sendLocked(sess, "READY", ready); err != nil {
		return err
	}
	for _, g := range creates {
		if err := s.sendLocked(sess, "GUILD_CREATE", g); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) resume(c *gwConn, token, sessionID string, seq int64) error {
	s.gw.mu.Lock()
	defer func() { s.gw.mu.Unlock(); s.notify() }()
	sess := s.gw.sessions[sessionID]
	if sess == nil || !s.tokenOK(token) || c.sess != nil {
		return c.send(opInvalidSession, 0, "", false)
	}
	if old := sess.conn; old != nil && old != c {
		_ = old.ws.Close()
	}
	sess.conn = c
	c.sess = sess
	for _, ev := range sess.log {
		if ev.seq > seq {
			if err := c.send(opDispatch, ev.seq, ev.name, ev.data); err != nil {
				return err
			}
		}
	}
	return s.sendLocked(sess, "RESUMED", map[string]any{})
}

// sendLocked assigns the next sequence number, logs the event for resumes
// and writes it if the session is connected. Caller holds gw.mu.
func (s *Server) sendLocked(sess *gwSession, name string, d any) error {
	raw, ok := d.(json.RawMessage)
	if !ok {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		raw = b
	}
	sess.seq++
	sess.log = append(sess.log, gwEvent{seq: sess.seq, name: name, data: raw})
	if len(sess.log) > maxEventLog {
		sess.log = sess.log[len(sess.log)-maxEventLog:]
	}
	if sess.conn == nil {
		return nil
	}
	return sess.conn.send(opDispatch, sess.seq, name, raw)
}

// Dispatch sends a gateway event (op 0) with data to every session, with
// each session's next sequence number. Sessions that are disconnected get
// it on resume. It returns the number of live connections written to.
func (s *Server) Dispatch(event string, data any) int {
	b, err := json.Marshal(data)
	if err != nil {
		s.violate(&Violation{Kind: "gateway", Detail: "Dispatch: " + err.Error()})
		return 0
	}
	return s.dispatchRaw(event, b)
}

func (s *Server) dispatchRaw(event string, raw json.RawMessage) int {
	return s.dispatchIntent(event, raw, 0)
}

// dispatchIntent dispatches an event to the sessions that identified with
// the intent (0: every session) and records it for GatewayEvents.
func (s *Server) dispatchIntent(event string, raw json.RawMessage, intent int) int {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.events = append(s.gw.events, GatewayEvent{Name: event, Data: raw})
	n := 0
	for _, sess := range s.gw.sessions {
		if intent != 0 && sess.intents&intent == 0 {
			continue
		}
		live := sess.conn != nil
		if err := s.sendLocked(sess, event, raw); err == nil && live {
			n++
		}
	}
	return n
}

// GatewayEvent is a dispatch (op 0) the fake sent to the bot's gateway
// sessions.
type GatewayEvent struct {
	Name string          // e.g. "MESSAGE_CREATE"
	Data json.RawMessage // the event's "d"
}

// GatewayEvents returns the events dispatched so far with the given name
// ("" = all), in order: MESSAGE_CREATE for messages the bot created with
// POST /channels/{channel.id}/messages, INTERACTION_CREATE from Interact,
// and everything sent with Dispatch. Each event is listed once, however
// many sessions received it (none, if no session was connected or had
// the intent). READY, GUILD_CREATE and RESUMED are not listed.
func (s *Server) GatewayEvents(name string) []GatewayEvent {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	var out []GatewayEvent
	for _, ev := range s.gw.events {
		if name == "" || ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

// pendingDispatch is a gateway event a handler queued; it is dispatched
// once the handler has returned and released the state lock.
type pendingDispatch struct {
	name   string
	data   any
	intent int // required intent, 0 = none
}

// dispatch queues a gateway event for after the handler.
func (c *call) dispatch(name string, data any, intent int) {
	c.dispatches = append(c.dispatches, pendingDispatch{name: name, data: data, intent: intent})
}

func (s *Server) flushDispatches(c *call) {
	for _, d := range c.dispatches {
		raw, err := json.Marshal(d.data)
		if err != nil {
			s.violate(&Violation{Kind: "gateway", Detail: "marshal " + d.name + ": " + err.Error()})
			continue
		}
		s.dispatchIntent(d.name, raw, d.intent)
	}
	c.dispatches = nil
}

// DropGateway abruptly closes every gateway connection (no close frame),
// as a network failure would. Sessions stay resumable.
func (s *Server) DropGateway() {
	s.gw.mu.Lock()
	for c := range s.gw.conns {
		_ = c.ws.Close()
	}
	s.gw.mu.Unlock()
}

// InvalidateSessions forgets all gateway sessions, so resumes fail with
// op 9 and clients must identify again.
func (s *Server) InvalidateSessions() {
	s.gw.mu.Lock()
	s.gw.sessions = map[string]*gwSession{}
	s.gw.mu.Unlock()
}

// Connected is the number of open gateway connections that have identified
// or resumed.
func (s *Server) Connected() int {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	n := 0
	for c := range s.gw.conns {
		if c.sess != nil && c.sess.conn == c {
			n++
		}
	}
	return n
}

func (s *Server) closeGateway() {
	s.gw.wgMu.Lock()
	s.gw.wgClosed = true
	s.gw.wgMu.Unlock()
	s.gw.mu.Lock()
	s.gw.closed = true
	for c := range s.gw.conns {
		_ = c.ws.Close()
	}
	s.gw.mu.Unlock()
}
