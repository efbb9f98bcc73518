package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// handover is one Alertmanager notification as it reached Klaxon.
type handover struct {
	At        time.Time // request arrived at the proxy
	Alertname string    // the group's alertname (group_by [alertname])
	Status    string    // "firing" or "resolved"
	Answer    int       // Klaxon's HTTP status (0: no answer)
	Took      time.Duration
}

// recorder is a loopback proxy in front of Klaxon's webhook: it notes when
// each of Alertmanager's notifications arrives, then forwards it unchanged.
// The arrival is the moment Alertmanager flushed the group; the native
// receiver is handed the same flush at the same moment.
type recorder struct {
	target string // http://klaxon-addr
	client *http.Client
	srv    *http.Server
	ln     net.Listener

	mu   sync.Mutex
	seen []handover
}

func startRecorder(target string) (*recorder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &recorder{target: target, ln: ln, client: &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second},
	}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// URL is the proxy's base URL.
func (r *recorder) URL() string { return "http://" + r.ln.Addr().String() }

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(req.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var n struct {
		Status      string            `json:"status"`
		GroupLabels map[string]string `json:"groupLabels"`
	}
	_ = json.Unmarshal(body, &n)
	h := handover{At: at, Alertname: n.GroupLabels["alertname"], Status: n.Status}

	out, err := http.NewRequestWithContext(req.Context(), req.Method, r.target+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out.Header = req.Header.Clone()
	resp, err := r.client.Do(out)
	h.Took = time.Since(at)
	if err != nil {
		r.add(h)
		http.Error(w, "klaxon-bench proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	h.Answer = resp.StatusCode
	r.add(h)
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (r *recorder) add(h handover) {
	r.mu.Lock()
	r.seen = append(r.seen, h)
	r.mu.Unlock()
}

// Handovers returns every notification seen so far.
func (r *recorder) Handovers() []handover {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]handover(nil), r.seen...)
}

func (r *recorder) Close() { _ = r.srv.Close() }

// firstFiring returns, per alertname, when its first firing notification
// arrived.
func firstFiring(hs []handover) map[string]time.Time {
	out := map[string]time.Time{}
	for _, h := range hs {
		if h.Status != "firing" || h.Alertname == "" {
			continue
		}
		if t, ok := out[h.Alertname]; !ok || h.At.Before(t) {
			out[h.Alertname] = h.At
		}
	}
	return out
}

// writeHandovers writes one JSON line per notification, for the record.
func writeHandovers(path string, hs []handover) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, h := range hs {
		_ = enc.Encode(map[string]any{"at": h.At.UTC().Format(time.RFC3339Nano), "alertname": h.Alertname,
			"status": h.Status, "klaxon_answer": h.Answer, "klaxon_took_ms": h.Took.Milliseconds()})
	}
	return f.Close()
}
