package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// A captured, correctly signed HTTP interaction sent again is refused with
// 409 by the running server, also after a restart on the same database.
func TestHTTPInteractionReplayAcrossRestart(t *testing.T) {
	pw := newPagingWorld(t, "")
	req, _, err := pw.discord.InteractionRequest(context.Background(), pw.url("/interactions"), pw.priv,
		pw.discord.SlashCommand(pw.channels[0], pw.anna, "alerts"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	header := req.Header.Clone()
	send := func() int {
		t.Helper()
		r, _ := http.NewRequest(http.MethodPost, pw.url("/interactions"), bytes.NewReader(body))
		r.Header = header.Clone()
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := send(); s != http.StatusOK {
		t.Fatalf("first delivery: %d", s)
	}
	if s := send(); s != http.StatusConflict {
		t.Errorf("second delivery: %d, want 409", s)
	}
	pw.restart()
	if !pw.discord.AwaitConnected(1, 30*time.Second) {
		t.Fatal("no gateway after restart")
	}
	if s := send(); s != http.StatusConflict {
		t.Errorf("delivery after a restart: %d, want 409", s)
	}
}
