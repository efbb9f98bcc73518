package handlers

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// AdminUserHeader carries the terminal user's Discord user id.
const AdminUserHeader = "X-Klaxon-User"

// AdminAPI is the admin API the terminal commands call on the running
// server, under /admin/v1/ on the HTTP listener:
//
//	GET  /admin/v1/alerts              open alert groups
//	POST /admin/v1/alerts/{id}/ack     acknowledge
//	POST /admin/v1/alerts/{id}/resolve resolve by hand
//	GET  /admin/v1/oncall[?schedule=]  who is on call now and next
//
// Every request carries the token (Authorization: Bearer, KLAXON_ADMIN_TOKEN)
// and the user it acts for (X-Klaxon-User); the Terminal's gate decides
// what that user may do. Without a token configured the API answers 503.
type AdminAPI struct {
	Terminal *Terminal
	Token    string
	Log      *slog.Logger
	Now      func() time.Time // for rate-limiting the 401 log; default time.Now

	once    sync.Once
	mux     *http.ServeMux
	mu      sync.Mutex
	lastLog time.Time
}

func (a *AdminAPI) routes() {
	a.mux = http.NewServeMux()
	a.mux.HandleFunc("GET /admin/v1/alerts", a.list)
	a.mux.HandleFunc("POST /admin/v1/alerts/{id}/ack", a.act)
	a.mux.HandleFunc("POST /admin/v1/alerts/{id}/resolve", a.act)
	a.mux.HandleFunc("GET /admin/v1/oncall", a.oncall)
}

func (a *AdminAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.once.Do(a.routes)
	if a.Token == "" {
		writeError(w, a.log(), bot.Errorf(bot.EUnavailable, "the admin API is off: set KLAXON_ADMIN_TOKEN (or KLAXON_ADMIN_TOKEN_FILE) where klaxon serve runs, and the same token where you run the terminal commands"))
		return
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) != 1 {
		a.logUnauthorized(r)
		w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon admin"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"status": "error",
			"error": "the admin token is missing or wrong: set KLAXON_ADMIN_TOKEN (or KLAXON_ADMIN_TOKEN_FILE) to the server's"})
		return
	}
	a.mux.ServeHTTP(w, r)
}

// logUnauthorized logs a refused token at most once a minute.
func (a *AdminAPI) logUnauthorized(r *http.Request) {
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	a.mu.Lock()
	due := a.lastLog.IsZero() || now.Sub(a.lastLog) >= time.Minute
	if due {
		a.lastLog = now
	}
	a.mu.Unlock()
	if due {
		a.log().Warn("admin API: wrong or missing token", "remote", r.RemoteAddr, "path", r.URL.Path)
	}
}

func (a *AdminAPI) list(w http.ResponseWriter, r *http.Request) {
	rows, err := a.Terminal.List(r.Context(), r.Header.Get(AdminUserHeader))
	if err != nil {
		writeError(w, a.log(), err)
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

func (a *AdminAPI) act(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, a.log(), bot.Errorf(bot.EInvalid, "%q is not an alert number: `klaxon alerts` lists them", r.PathValue("id")))
		return
	}
	user := r.Header.Get(AdminUserHeader)
	var res *ActResult
	if strings.HasSuffix(r.URL.Path, "/ack") {
		res, err = a.Terminal.Acknowledge(r.Context(), user, id)
	} else {
		res, err = a.Terminal.Resolve(r.Context(), user, id)
	}
	if err != nil {
		writeError(w, a.log(), err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *AdminAPI) oncall(w http.ResponseWriter, r *http.Request) {
	rows, err := a.Terminal.OnCall(r.Context(), r.Header.Get(AdminUserHeader), r.URL.Query().Get("schedule"))
	if err != nil {
		writeError(w, a.log(), err)
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

func (a *AdminAPI) log() *slog.Logger { return bot.OrDiscard(a.Log) }
