package alertmanager_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/alertmanager"
	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
)

const minimalConfig = `
route:
  receiver: none
receivers:
  - name: none
`

func TestSilenceAgainstRealAlertmanager(t *testing.T) {
	am := amtest.Start(t, minimalConfig)
	c, err := alertmanager.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g := &bot.Group{GroupLabels: map[string]string{"alertname": "Down", "service": "game"}}
	now := time.Now()
	id, err := c.CreateSilence(ctx, alertmanager.Matchers(g), now, now.Add(time.Hour), "ana (Discord 501)", "silenced from Klaxon")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	var s struct {
		Status    struct{ State string }
		CreatedBy string
		Matchers  []struct{ Name, Value string }
	}
	get(t, am.URL+"/api/v2/silence/"+id, &s)
	if s.Status.State != "active" || s.CreatedBy != "ana (Discord 501)" || len(s.Matchers) != 4 {
		t.Errorf("silence = %+v, want active, created by ana, 4 matchers (2 group labels, priority and severity pinned absent)", s)
	}
	if err := c.ExpireSilence(ctx, id); err != nil {
		t.Fatalf("expire: %v", err)
	}
	get(t, am.URL+"/api/v2/silence/"+id, &s)
	if s.Status.State != "expired" {
		t.Errorf("state after expire = %q, want expired", s.Status.State)
	}
	if err := c.ExpireSilence(ctx, "00000000-0000-0000-0000-000000000000"); err != nil {
		t.Errorf("expiring an unknown silence: %v, want nil", err)
	}
	if _, err := c.CreateSilence(ctx, nil, now, now.Add(time.Hour), "x", "y"); bot.ErrorCode(err) != bot.EInvalid {
		t.Errorf("no matchers: got %v, want invalid", err)
	}
	// End before start is refused by Alertmanager itself, and said so.
	if _, err := c.CreateSilence(ctx, g.GroupLabels, now, now.Add(-time.Hour), "x", "y"); bot.ErrorCode(err) != bot.EInvalid {
		t.Errorf("end before start: got %v, want invalid", err)
	}
}

func TestSilenceAlertmanagerDown(t *testing.T) {
	c, _ := alertmanager.New("http://127.0.0.1:1", nil)
	_, err := c.CreateSilence(context.Background(), map[string]string{"a": "b"}, time.Now(), time.Now().Add(time.Hour), "x", "y")
	if bot.ErrorCode(err) != bot.EUnavailable {
		t.Errorf("got %v, want unavailable", err)
	}
}

func get(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
