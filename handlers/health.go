package handlers

import (
	"context"
	"net/http"
	"time"
)

// Check is one readiness condition; nil means ready.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
	// Degraded marks a condition that is reported but does not make the
	// instance unready: readiness means "can accept and store webhooks",
	// so that a probe never takes the only pager out during a Discord outage.
	Degraded bool
	// Report, when set, describes the state behind the check; the body
	// carries it under the check's name whether the check passes or not.
	Report func(ctx context.Context) any
}

// Healthz answers 200 while the process serves HTTP.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz answers 200 when every check that is not Degraded passes, else
// 503 with the reasons. Failing Degraded checks are listed under "degraded";
// each check's Report is in the body under its name.
func Readyz(checks ...Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		failed, degraded := map[string]string{}, map[string]string{}
		body := map[string]any{"status": "ready"}
		for _, c := range checks {
			if c.Report != nil {
				body[c.Name] = c.Report(ctx)
			}
			if err := c.Fn(ctx); err != nil {
				if c.Degraded {
					degraded[c.Name] = err.Error()
				} else {
					failed[c.Name] = err.Error()
				}
			}
		}
		if len(degraded) > 0 {
			body["degraded"] = degraded
		}
		if len(failed) > 0 {
			body["status"], body["failed"] = "not ready", failed
			writeJSON(w, http.StatusServiceUnavailable, body)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
}
