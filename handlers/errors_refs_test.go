package handlers

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/marola-rp/klaxon/bot"
)

// An HTTP client is no Discord reader: references in an error read as plain text.
func TestWriteErrorRendersReferencesAsPlainText(t *testing.T) {
	w := httptest.NewRecorder()
	writeError(w, slog.New(slog.DiscardHandler), bot.Errorf(bot.EConflict, "already acknowledged by %s", bot.UserRef("7")))
	if body := w.Body.String(); !strings.Contains(body, "already acknowledged by user 7") || strings.ContainsRune(body, bot.RefOpen) {
		t.Errorf("body %q", body)
	}
}
