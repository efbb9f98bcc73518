// Package mailtest is an in-process SMTP server for tests, listening on
// loopback: ESMTP with STARTTLS (a self-signed certificate made at start)
// and AUTH PLAIN, strict about CRLF line endings, recording every message
// it accepts. Recipients can be made to fail with any reply code.
package mailtest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a Server.
type Options struct {
	StartTLS    bool   // offer STARTTLS
	Username    string // offer AUTH PLAIN with these credentials ("" means no AUTH)
	Password    string
	AuthOnlyTLS bool   // offer AUTH only after STARTTLS, like most submission servers
	RequireAuth bool   // refuse MAIL before a successful AUTH
	Host        string // loopback address to listen on; "" means 127.0.0.1
}

// Received is a message the server accepted.
type Received struct {
	From     string   // envelope sender
	To       []string // envelope recipients
	Data     []byte   // the message as received (CRLF line endings, dot-stuffing undone)
	TLS      bool     // the session was encrypted
	AuthUser string   // who authenticated, "" for nobody

	Header  netmail.Header // parsed headers
	Subject string         // decoded Subject
	Text    string         // decoded text/plain body (LF line endings)
	HTML    string         // decoded text/html part, if any
}

type reply struct {
	code int
	text string
}

// Server is a test SMTP server.
type Server struct {
	Host string // 127.0.0.1
	Port int
	Addr string // host:port

	opts     Options
	ln       net.Listener
	tlsConf  *tls.Config
	roots    *x509.CertPool
	wg       sync.WaitGroup
	mu       sync.Mutex
	msgs     []Received
	rejects  map[string]reply
	conns    map[net.Conn]bool
	closed   bool
	sessions int
}

// New starts a server on loopback; it is closed when the test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{opts: opts, ln: ln, rejects: map[string]reply{}, conns: map[net.Conn]bool{}}
	s.Addr = ln.Addr().String()
	h, p, _ := net.SplitHostPort(s.Addr)
	s.Host = h
	s.Port, _ = strconv.Atoi(p)
	if opts.StartTLS {
		cert, roots, err := selfSigned(h)
		if err != nil {
			ln.Close()
			tb.Fatalf("mailtest: certificate: %v", err)
		}
		s.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.roots = roots
	}
	s.wg.Add(1)
	go s.serve()
	tb.Cleanup(s.Close)
	return s
}

// ClientTLSConfig trusts the server's self-signed certificate.
func (s *Server) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12}
}

// RejectRcpt makes RCPT TO:<addr> answer code and text, e.g. 550 "5.1.1 no such user".
func (s *Server) RejectRcpt(addr string, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[strings.ToLower(addr)] = reply{code, text}
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Sessions returns how many connections the server has accepted.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Close stops the server and ends open sessions.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.sessions++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			(&session{srv: s, conn: c}).run()
		}()
	}
}

// session is one SMTP conversation.
type session struct {
	srv      *Server
	conn     net.Conn
	r        *bufio.Reader
	w        *bufio.Writer
	helo     bool
	tls      bool
	authUser string
	from     string
	hasFrom  bool
	to       []string
}

const maxLine = 1000 // RFC 5321 text line limit, CRLF included

func (ss *session) reply(code int, text string) {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		fmt.Fprintf(ss.w, "%d%s%s\r\n", code, sep, l)
	}
	ss.w.Flush()
}

func (ss *session) reset() { ss.from, ss.hasFrom, ss.to = "", false, nil }

func (ss *session) run() {
	ss.r = bufio.NewReader(ss.conn)
	ss.w = bufio.NewWriter(ss.conn)
	ss.reply(220, "mailtest ESMTP ready")
	for {
		line, err := ss.readLine()
		if err != nil {
			if err == errLineTooLong {
				ss.reply(500, "5.5.2 line too long")
				continue
			}
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			if arg == "" {
				ss.reply(501, "5.5.4 EHLO needs a domain")
				continue
			}
			ss.helo = true
			ss.reset()
			if strings.EqualFold(verb, "HELO") {
				ss.reply(250, "mailtest")
				continue
			}
			ext := []string{"mailtest greets " + arg, "PIPELINING", "8BITMIME", "SIZE 10485760"}
			if ss.srv.tlsConf != nil && !ss.tls {
				ext = append(ext, "STARTTLS")
			}
			if ss.authOffered() {
				ext = append(ext, "AUTH PLAIN")
			}
			ss.reply(250, strings.Join(ext, "\n"))
		case "STARTTLS":
			if ss.srv.tlsConf == nil || ss.tls {
				ss.reply(502, "5.5.1 STARTTLS not available")
				continue
			}
			ss.reply(220, "2.0.0 Ready to start TLS")
			tc := tls.Server(ss.conn, ss.srv.tlsConf)
			if err := tc.Handshake(); err != nil {
				return
			}
			ss.conn, ss.tls, ss.helo = tc, true, false
			ss.r = bufio.NewReader(tc)
			ss.w = bufio.NewWriter(tc)
			ss.reset()
		case "AUTH":
			ss.auth(arg)
		case "MAIL":
			addr, ok := pathArg(arg, "FROM:")
			switch {
			case !ss.helo:
				ss.reply(503, "5.5.1 send EHLO first")
			case ss.hasFrom:
				ss.reply(503, "5.5.1 nested MAIL command")
			case !ok:
				ss.reply(501, "5.5.4 syntax: MAIL FROM:<address>")
			case ss.srv.opts.RequireAuth && ss.authUser == "":
				ss.reply(530, "5.7.0 authentication required")
			default:
				ss.from, ss.hasFrom = addr, true
				ss.reply(250, "2.1.0 Ok")
			}
		case "RCPT":
			addr, ok := pathArg(arg, "TO:")
			switch {
			case !ss.hasFrom:
				ss.reply(503, "5.5.1 need MAIL command")
			case !ok || addr == "":
				ss.reply(501, "5.5.4 syntax: RCPT TO:<address>")
			default:
				ss.srv.mu.Lock()
				rej, bad := ss.srv.rejects[strings.ToLower(addr)]
				ss.srv.mu.Unlock()
				if bad {
					ss.reply(rej.code, rej.text)
					continue
				}
				ss.to = append(ss.to, addr)
				ss.reply(250, "2.1.5 Ok")
			}
		case "DATA":
			if len(ss.to) == 0 {
				ss.reply(503, "5.5.1 need RCPT command")
				continue
			}
			ss.reply(354, "End data with <CR><LF>.<CR><LF>")
			data, bareLF, err := ss.readData()
			if err != nil {
				return
			}
			if bareLF {
				ss.reply(550, "5.6.11 bare LF in message: lines must end with CRLF")
			} else {
				ss.srv.record(ss, data)
				ss.reply(250, "2.0.0 Ok: queued")
			}
			ss.reset()
		case "RSET":
			ss.reset()
			ss.reply(250, "2.0.0 Ok")
		case "NOOP":
			ss.reply(250, "2.0.0 Ok")
		case "QUIT":
			ss.reply(221, "2.0.0 Bye")
			return
		default:
			ss.reply(502, "5.5.2 command not recognized")
		}
	}
}

func (ss *session) authOffered() bool {
	o := ss.srv.opts
	return o.Username != "" && (!o.AuthOnlyTLS || ss.tls)
}

func (ss *session) auth(arg string) {
	mech, initial, _ := strings.Cut(arg, " ")
	switch {
	case !ss.authOffered():
		ss.reply(503, "5.5.1 AUTH not available")
		return
	case ss.authUser != "":
		ss.reply(503, "5.5.1 already authenticated")
		return
	case !strings.EqualFold(mech, "PLAIN"):
		ss.reply(504, "5.5.4 unrecognized authentication type")
		return
	}
	if initial == "" {
		ss.reply(334, "")
		l, err := ss.readLine()
		if err != nil {
			return
		}
		initial = l
	}
	if initial == "*" {
		ss.reply(501, "5.7.0 authentication cancelled")
		return
	}
	raw, err := base64.StdEncoding.DecodeString(initial)
	if err != nil {
		ss.reply(501, "5.5.2 cannot decode response")
		return
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 || parts[1] != ss.srv.opts.Username || parts[2] != ss.srv.opts.Password {
		ss.reply(535, "5.7.8 authentication credentials invalid")
		return
	}
	ss.authUser = parts[1]
	ss.reply(235, "2.7.0 Authentication successful")
}

var errLineTooLong = errors.New("line too long")

// readLine reads a command line and strips its CRLF.
func (ss *session) readLine() (string, error) {
	l, err := ss.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(l) > maxLine {
		return "", errLineTooLong
	}
	return strings.TrimRight(l, "\r\n"), nil
}

// readData reads the message up to "<CRLF>.<CRLF>", undoing dot-stuffing
// and reporting bare LFs.
func (ss *session) readData() (data []byte, bareLF bool, err error) {
	var b bytes.Buffer
	for {
		l, err := ss.r.ReadString('\n')
		if err != nil {
			return nil, false, err
		}
		if !strings.HasSuffix(l, "\r\n") {
			bareLF = true
		}
		if l == ".\r\n" || l == ".\n" {
			return b.Bytes(), bareLF, nil
		}
		l = strings.TrimPrefix(l, ".")
		b.WriteString(l)
		if b.Len() > 10<<20 {
			return nil, false, errors.New("message too large")
		}
	}
}

// pathArg parses "FROM:<addr> PARAMS" (case-insensitive prefix).
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

func (s *Server) record(ss *session, data []byte) {
	r := Received{From: ss.from, To: append([]string(nil), ss.to...), Data: data, TLS: ss.tls, AuthUser: ss.authUser}
	parse(&r)
	s.mu.Lock()
	s.msgs = append(s.msgs, r)
	s.mu.Unlock()
}

// parse fills the parsed fields of r from r.Data, as far as it can.
func parse(r *Received) {
	m, err := netmail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return
	}
	r.Header = m.Header
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(m.Header.Get("Subject")); err == nil {
		r.Subject = s
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(m.Body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				break
			}
			pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			body := decodeBody(p, p.Header.Get("Content-Transfer-Encoding"))
			switch pt {
			case "text/plain":
				r.Text = body
			case "text/html":
				r.HTML = body
			}
		}
		return
	}
	r.Text = decodeBody(m.Body, m.Header.Get("Content-Transfer-Encoding"))
}

func decodeBody(body io.Reader, cte string) string {
	var rd io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		rd = quotedprintable.NewReader(body)
	case "base64":
		rd = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, _ := io.ReadAll(rd)
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// selfSigned makes a certificate for host (an IP or a name), valid for a day.
func selfSigned(host string) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil && !ip.Equal(net.IPv4(127, 0, 0, 1)) && !ip.Equal(net.IPv6loopback) {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
