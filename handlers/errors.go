// Package handlers translates the outside world into core calls: the
// Alertmanager webhook, Discord interactions and health checks. Core errors
// are mapped to HTTP statuses in exactly one place, writeError.
package handlers

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/marola-rp/klaxon/bot"
)

// statusOf maps a core error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case bot.EInvalid:
		return http.StatusBadRequest
	case bot.ENotFound:
		return http.StatusNotFound
	case bot.EConflict:
		return http.StatusConflict
	case bot.EForbidden:
		return http.StatusForbidden
	case bot.EUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// writeError answers with the status for err and a JSON body naming the problem.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	code := bot.ErrorCode(err)
	status := statusOf(code)
	if status >= 500 {
		log.Error("request failed", "status", status, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, map[string]string{"status": "error", "error": bot.PlainRefs(bot.ErrorMessage(err))})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
