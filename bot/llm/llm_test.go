package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/llm"
	"github.com/marola-rp/klaxon/bot/postmortem"
	"github.com/marola-rp/klaxon/store"
)

// fakeOpenAI speaks the chat-completions API: POST /v1/chat/completions
// with OpenAI's request JSON, answering with its response JSON.
type fakeOpenAI struct {
	mu     sync.Mutex
	bodies []string
	answer func(w http.ResponseWriter, r *http.Request, req map[string]any)
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer sk-test" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
		return
	}
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	f.answer(w, r, req)
}

func completion(w http.ResponseWriter, message map[string]any, finish string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-123", "object": "chat.completion", "created": 1741900000, "model": "gpt-4o-mini-2024-07-18",
		"choices": []any{map[string]any{"index": 0, "message": message, "logprobs": nil, "finish_reason": finish}},
		"usage":   map[string]any{"prompt_tokens": 900, "completion_tokens": 300, "total_tokens": 1200},
	})
}

func content(sections map[string]string) string {
	b, _ := json.Marshal(sections)
	return string(b)
}

func input() postmortem.DraftInput {
	return postmortem.DraftInput{Ref: "INC-7", Title: "EU game server down", Priority: "P0 (critical outage)", Sections: postmortem.Sections,
		Started: time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC), Timeline: []postmortem.DraftEvent{{At: time.Date(2026, 3, 14, 20, 3, 0, 0, time.UTC), Kind: "declared", Who: "ana"}}}
}

func TestDraft(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  func(w http.ResponseWriter, r *http.Request, req map[string]any)
		key     string
		want    map[string]string
		refused string // substring of the refusal reason
		errText string // substring of another error
	}{
		{name: "sections", answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
			msgs := req["messages"].([]any)
			if req["model"] != "gpt-4o-mini" || len(msgs) != 2 || req["response_format"].(map[string]any)["type"] != "json_object" ||
				!strings.Contains(msgs[1].(map[string]any)["content"].(string), `"incident": "INC-7"`) {
				http.Error(w, "unexpected request", http.StatusBadRequest)
				return
			}
			completion(w, map[string]any{"role": "assistant", "content": content(map[string]string{"summary": "The EU server was down for 47 minutes.", "root_cause": "Unknown — to be filled in."})}, "stop")
		}, want: map[string]string{"summary": "The EU server was down for 47 minutes.", "root_cause": "Unknown — to be filled in."}},
		{name: "fenced JSON from a local model", answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
			completion(w, map[string]any{"role": "assistant", "content": "```json\n" + content(map[string]string{"lessons_learned": "Alert earlier."}) + "\n```"}, "stop")
		}, want: map[string]string{"lessons_learned": "Alert earlier."}},
		{name: "refusal", answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
			completion(w, map[string]any{"role": "assistant", "content": nil, "refusal": "I'm sorry, I can't help with that."}, "stop")
		}, refused: "I'm sorry, I can't help with that."},
		{name: "content filter", answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
			completion(w, map[string]any{"role": "assistant", "content": ""}, "content_filter")
		}, refused: "content filter"},
		{name: "prose instead of JSON", answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
			completion(w, map[string]any{"role": "assistant", "content": "As an AI model I cannot write this."}, "stop")
		}, refused: "not the JSON object"},
		{name: "server error", answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}`)
		}, errText: "HTTP 500"},
		{name: "bad key", key: "sk-wrong", answer: nil, errText: "HTTP 401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&fakeOpenAI{answer: tc.answer})
			defer srv.Close()
			key := tc.key
			if key == "" {
				key = "sk-test"
			}
			c, err := llm.New(llm.Config{BaseURL: srv.URL + "/v1", Model: "gpt-4o-mini", APIKey: key, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			d, err := c.Draft(context.Background(), input())
			var refused *postmortem.DraftRefused
			switch {
			case tc.refused != "":
				if !errors.As(err, &refused) || !strings.Contains(refused.Reason, tc.refused) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tc.refused)
				}
			case tc.errText != "":
				if err == nil || errors.As(err, &refused) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want an error containing %q", err, tc.errText)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if d.Model != "gpt-4o-mini-2024-07-18" || len(d.Sections) != len(tc.want) {
					t.Fatalf("draft = %+v", d)
				}
				for k, v := range tc.want {
					if d.Sections[k] != v {
						t.Errorf("section %s = %q, want %q", k, d.Sections[k], v)
					}
				}
			}
		})
	}
}

func TestDraftTimeout(t *testing.T) {
	srv := httptest.NewServer(&fakeOpenAI{answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
		<-r.Context().Done() // never answers; the client gives up
	}})
	defer srv.Close()
	c, err := llm.New(llm.Config{BaseURL: srv.URL + "/v1", Model: "m", APIKey: "sk-test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Draft(ctx, input()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

// TestPostmortemThroughTheWire drafts a post-mortem of a stored incident
// through the fake server: the LLM's sections land in the document, marked
// as a draft, and no sensitive label, annotation or value is in any request.
func TestPostmortemThroughTheWire(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC)
	g := &bot.Group{Key: "k", Status: bot.Resolved, Priority: bot.P0, CreatedAt: t0, UpdatedAt: t0, ResolvedAt: t0.Add(time.Hour), Version: 1,
		CommonLabels:      map[string]string{"alertname": "GameServerDown", "service": "game", "instance": "10.20.30.40:30120", "customer_email": "vip@example.org"},
		CommonAnnotations: map[string]string{"summary": "Server 10.20.30.40:30120 down", "db_password": "hunter2-secret"}}
	inc := &bot.Incident{Title: "Game down", Priority: bot.P0, Status: bot.IncResolved, ThreadID: "77", StartedAt: t0, DetectedAt: t0, ResolvedAt: t0.Add(time.Hour),
		Roles: map[string]string{"commander": "501"}}
	if err := db.Incident().Update(ctx, func(tx incident.Tx) error {
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		inc.GroupIDs = []int64{g.ID}
		if err := tx.SaveIncident(inc); err != nil {
			return err
		}
		return tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: inc.ID, At: t0.Add(time.Minute), Kind: "note", Text: "ssh to 10.20.30.40:30120 failed; mailed vip@example.org"})
	}); err != nil {
		t.Fatal(err)
	}
	fake := &fakeOpenAI{answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
		completion(w, map[string]any{"role": "assistant", "content": content(map[string]string{"summary": "The game server was down for an hour.",
			"root_cause": "Not in the record: the responders must fill this in."})}, "stop")
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := llm.New(llm.Config{BaseURL: srv.URL + "/v1", Model: "gpt-4o-mini", APIKey: "sk-test"})
	if err != nil {
		t.Fatal(err)
	}
	pms := &postmortem.Service{Store: db.Postmortem(), Drafter: c, Policy: postmortem.Policy{Sensitive: []string{"instance", "*_email", "*password*"}}}
	pm, err := pms.Create(ctx, inc.ID, bot.Actor{UserID: "501"}, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if pm.LLMModel != "gpt-4o-mini-2024-07-18" || pm.Sections["summary"] != "The game server was down for an hour." || pm.DraftNote != "" {
		t.Fatalf("post-mortem = %+v", pm)
	}
	md, _, err := pms.Markdown(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, "LLM draft — for humans to review") || !strings.Contains(md, "*LLM draft — review before relying on it.*") {
		t.Errorf("the document does not mark the LLM draft:\n%s", md)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(fake.bodies))
	}
	for _, body := range fake.bodies {
		for _, secret := range []string{"10.20.30.40", "vip@example.org", "hunter2", "db_password", "customer_email", `\"instance\"`} {
			if strings.Contains(body, secret) {
				t.Errorf("request body contains sensitive %q", secret)
			}
		}
		if !strings.Contains(body, "GameServerDown") || !strings.Contains(body, "ssh to [redacted] failed") {
			t.Errorf("request body lacks the record it should carry:\n%s", body)
		}
	}
}

// wireSecrets are values of the shapes an incident record picks up from
// alert text and responders' notes; none may reach the LLM.
var wireSecrets = []struct{ name, text, secret string }{
	{"bearer token", "curl -H 'Authorization: Bearer 9f8e7d6c5b4a39281706f5e4' api", "9f8e7d6c5b4a39281706f5e4"},
	{"password=", "login failed with password=Tr0ub4dor3 for admin", "Tr0ub4dor3"},
	{"JSON password", `config {"db_password": "correct-horse-battery"} rejected`, "correct-horse-battery"},
	{"postgres URL", "dial postgres://klaxon:s3cr3tPassw0rd@db.internal:5432/klaxon failed", "s3cr3tPassw0rd"},
	{"MySQL DSN", "DSN game:g4meP4ss@tcp(10.0.0.5:3306)/players refused", "g4meP4ss"},
	{"URL token", "GET https://cdn.example.net/f?token=abc123def456&expires=17&signature=Zm9vYmFyYmF6", "abc123def456"},
	{"URL signature", "GET https://cdn.example.net/f?token=abc123def456&expires=17&signature=Zm9vYmFyYmF6", "Zm9vYmFyYmF6"},
	{"URL key", "https://maps.example.com/api?key=k3y-0f-the-map&q=berlin", "k3y-0f-the-map"},
	{"OpenAI key", "LLM failed with sk-proj-4fGh7JkL9mNpQrStUvWx2yZ0", "sk-proj-4fGh7JkL9mNpQrStUvWx2yZ0"},
	{"GitHub token", "push rejected for ghp_1A2b3C4d5E6f7G8h9I0jK1lM2nO3pQ4rS5tU", "ghp_1A2b3C4d5E6f7G8h9I0jK1lM2nO3pQ4rS5tU"},
	{"Slack token", "slack: invalid_auth for xoxb-2048-4096-AbCdEfGhIjKlMnOp", "xoxb-2048-4096-AbCdEfGhIjKlMnOp"},
	{"AWS key id", "s3 denied AKIAIOSFODNN7EXAMPLE on bucket backups", "AKIAIOSFODNN7EXAMPLE"},
	{"hex after key", "rotated the signing key 3f9a8c7b6d5e4f30a1b2c3d4e5f60718", "3f9a8c7b6d5e4f30a1b2c3d4e5f60718"},
	{"base64 after secret", "the secret is dGhpcyBpcyBhIHNlY3JldCB0b2tlbjEy now", "dGhpcyBpcyBhIHNlY3JldCB0b2tlbjEy"},
	{"JWT", "cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGciOiJIUzI1NiJ9"},
	{"Discord webhook", "fallback https://discord.com/api/webhooks/123456789012345678/AbCdEf-GhIjKl_MnOpQrStUv down", "AbCdEf-GhIjKl_MnOpQrStUv"},
	{"e-mail", "mailed vip.player+eu@example.org about it", "vip.player+eu@example.org"},
}

// draftWire stores an incident whose alerts and timeline carry every
// wireSecrets value (under label names that say nothing), drafts its
// post-mortem through a fake chat-completions server, and returns the one
// request body the server received.
func draftWire(t *testing.T, sendUserNames bool) string {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC)
	ann := map[string]string{"summary": "Game server EU-1 down, 0 of 64 players online"}
	for i, s := range wireSecrets {
		ann[fmt.Sprintf("detail_%02d", i)] = s.text
	}
	g := &bot.Group{Key: "k", Status: bot.Resolved, Priority: bot.P0, CreatedAt: t0, UpdatedAt: t0, ResolvedAt: t0.Add(time.Hour), Version: 1,
		CommonLabels:      map[string]string{"alertname": "GameServerDown", "service": "game", "note": wireSecrets[3].text},
		CommonAnnotations: ann,
		Ack:               &bot.Action{Actor: bot.Actor{UserID: "100000000000000501", Name: "ana.k", Via: "button"}, At: t0.Add(2 * time.Minute)}}
	inc := &bot.Incident{Title: "Game down after " + wireSecrets[0].text, Priority: bot.P0, Status: bot.IncResolved, ThreadID: "77",
		StartedAt: t0, DetectedAt: t0, ResolvedAt: t0.Add(time.Hour), Impact: "players could not join; " + wireSecrets[16].text,
		Roles: map[string]string{"commander": "100000000000000501", "scribe": "100000000000000502"}}
	if err := db.Incident().Update(ctx, func(tx incident.Tx) error {
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		inc.GroupIDs = []int64{g.ID}
		if err := tx.SaveIncident(inc); err != nil {
			return err
		}
		for i, s := range wireSecrets {
			if err := tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: inc.ID, At: t0.Add(time.Duration(3+i) * time.Minute), Kind: "note",
				Actor: bot.Actor{UserID: "100000000000000502", Name: "Jörg_B", Via: "command"}, Text: s.text}); err != nil {
				return err
			}
		}
		// Written as a reference token (today's form): a person too, and the
		// moment as plain text.
		if err := tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: inc.ID, At: t0.Add(20 * time.Minute), Kind: "note",
			Actor: bot.Actor{Name: "Alertmanager", Via: "webhook"},
			Text:  bot.UserRef("100000000000000503") + " joined the call at " + bot.TimeRef(t0, bot.TimeShortTime)}); err != nil {
			return err
		}
		// Discord markup stored by older versions (read through Service.Legacy).
		return tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: inc.ID, At: t0.Add(30 * time.Minute), Kind: "note",
			Actor: bot.Actor{UserID: "100000000000000501", Name: "ana.k", Via: "command"},
			Text:  "restarted game-eu-1 at 20:30 UTC with Jörg_B; <@100000000000000502> and @ana.k watched the player count recover to 58"})
	}); err != nil {
		t.Fatal(err)
	}
	fake := &fakeOpenAI{answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
		completion(w, map[string]any{"role": "assistant", "content": content(map[string]string{"summary": "The game server was down for an hour."})}, "stop")
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := llm.New(llm.Config{BaseURL: srv.URL + "/v1", Model: "gpt-4o-mini", APIKey: "sk-test"})
	if err != nil {
		t.Fatal(err)
	}
	pms := &postmortem.Service{Store: db.Postmortem(), Drafter: c, Policy: postmortem.Policy{SendUserNames: sendUserNames},
		Legacy: discord.LegacyRefs}
	if _, err := pms.Create(ctx, inc.ID, bot.Actor{UserID: "100000000000000501"}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(fake.bodies))
	}
	// The prompt as the model reads it: the JSON request decoded, so that
	// escapes such as \u0026 cannot hide a secret from the check.
	var req struct {
		Messages []struct{ Content string } `json:"messages"`
	}
	if err := json.Unmarshal([]byte(fake.bodies[0]), &req); err != nil {
		t.Fatal(err)
	}
	var prompt strings.Builder
	for _, m := range req.Messages {
		prompt.WriteString(m.Content + "\n")
	}
	return prompt.String()
}

// TestDraftSendsNoSecrets: a post-mortem draft through the wire carries the
// record's ordinary text but none of the secrets, and no person's name,
// mention or id (each is "responder N").
func TestDraftSendsNoSecrets(t *testing.T) {
	prompt := draftWire(t, false)
	for _, s := range wireSecrets {
		if strings.Contains(prompt, s.secret) {
			t.Errorf("%s: the prompt contains %q", s.name, s.secret)
		}
	}
	for _, who := range []string{"ana.k", "Jörg_B", "100000000000000501", "100000000000000502", "100000000000000503", "<@", string(bot.RefOpen), string(bot.RefClose)} {
		if strings.Contains(prompt, who) {
			t.Errorf("the prompt names %q", who)
		}
	}
	for _, want := range []string{
		"GameServerDown", "Game server EU-1 down, 0 of 64 players online", "restarted game-eu-1 at 20:30 UTC with responder 2",
		"responder 2 and responder 1 watched the player count recover to 58", "responder 3 joined the call at 2026-03-14 20:00 UTC", `"who": "responder 1"`,
		"dial postgres://klaxon:[redacted]@db.internal:5432/klaxon failed", "s3 denied [redacted] on bucket backups",
		"players could not join; mailed [redacted] about it",
	} {
		if !strings.Contains(prompt, want) {
			t.Errorf("the prompt lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("prompt:\n%s", prompt)
	}
}

// TestDraftSendsUserNamesWhenAllowed: llm.send_user_names lets names and
// mentions through; secrets still do not.
func TestDraftSendsUserNamesWhenAllowed(t *testing.T) {
	prompt := draftWire(t, true)
	for _, s := range wireSecrets {
		if strings.Contains(prompt, s.secret) {
			t.Errorf("%s: the prompt contains %q", s.name, s.secret)
		}
	}
	if !strings.Contains(prompt, "ana.k") || !strings.Contains(prompt, "Jörg_B") || strings.Contains(prompt, "responder 1") {
		t.Errorf("user names are not sent as they are:\n%s", prompt)
	}
}

// TestDraftScrubsWhatItIsGiven: a caller that hands Draft unredacted input
// still sends no secret-shaped value.
func TestDraftScrubsWhatItIsGiven(t *testing.T) {
	fake := &fakeOpenAI{answer: func(w http.ResponseWriter, r *http.Request, req map[string]any) {
		completion(w, map[string]any{"role": "assistant", "content": content(map[string]string{"summary": "ok"})}, "stop")
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := llm.New(llm.Config{BaseURL: srv.URL + "/v1", Model: "m", APIKey: "sk-test"})
	if err != nil {
		t.Fatal(err)
	}
	in := input()
	for _, s := range wireSecrets {
		in.Timeline = append(in.Timeline, postmortem.DraftEvent{At: in.Started, Kind: "note", Text: s.text})
		in.Alerts = append(in.Alerts, postmortem.DraftAlert{Name: "A", Annotations: map[string]string{"x": s.text}, Labels: map[string]string{"y": s.text}})
	}
	if _, err := c.Draft(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	var req struct {
		Messages []struct{ Content string } `json:"messages"`
	}
	if err := json.Unmarshal([]byte(fake.bodies[0]), &req); err != nil {
		t.Fatal(err)
	}
	for _, s := range wireSecrets {
		if strings.Contains(req.Messages[1].Content, s.secret) {
			t.Errorf("%s: the prompt contains %q", s.name, s.secret)
		}
	}
	if !strings.Contains(req.Messages[1].Content, "EU game server down") {
		t.Errorf("the prompt lacks the title:\n%s", req.Messages[1].Content)
	}
}

func TestInsecureEndpointRefused(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://api.openai.com/v1": true, "http://localhost:11434/v1": true, "http://127.0.0.2:8000/v1": true, "http://[::1]:8000/v1": true,
		"http://ollama:11434/v1": false, "http://192.168.1.20:8000/v1": false, "http://localhost.example.org/v1": false,
	} {
		_, err := llm.New(llm.Config{BaseURL: url, Model: "m"})
		if (err == nil) != ok {
			t.Errorf("New(%s) err = %v, want ok=%v", url, err, ok)
		}
		if _, err := llm.New(llm.Config{BaseURL: url, Model: "m", AllowInsecure: true}); err != nil {
			t.Errorf("New(%s, AllowInsecure) = %v", url, err)
		}
	}
}
