package discordtest

import (
	"errors"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// TestDropAfterHandle checks with the real discordgo client that a request
// under a DropAfterHandle fault fails with a transport error although the
// fake did what it asked.
func TestDropAfterHandle(t *testing.T) {
	tests := []struct {
		name       string
		route      string
		wantStatus int
		// act runs the call under the fault; setup's result is passed in.
		setup func(t *testing.T, e *env) string
		act   func(e *env, id string) error
		// check looks for the effect in the fake's state.
		check func(t *testing.T, e *env, id string)
	}{
		{
			name: "message create", route: "/channels/{channel_id}/messages", wantStatus: 200,
			act: func(e *env, _ string) error {
				_, err := e.dg.ChannelMessageSendComplex(e.channel, &discordgo.MessageSend{Content: "firing: HighLatency"})
				return err
			},
			check: func(t *testing.T, e *env, _ string) {
				msgs := e.srv.Messages(e.channel)
				if len(msgs) != 1 || msgs[0].Content != "firing: HighLatency" {
					t.Errorf("messages = %+v, want the one created", msgs)
				}
				if got := len(e.srv.GatewayEvents("MESSAGE_CREATE")); got != 1 {
					t.Errorf("MESSAGE_CREATE dispatched %d times, want 1", got)
				}
			},
		},
		{
			name: "message edit", route: "/channels/{channel_id}/messages/{message_id}", wantStatus: 200,
			setup: func(t *testing.T, e *env) string {
				m, err := e.dg.ChannelMessageSend(e.channel, "firing")
				if err != nil {
					t.Fatal(err)
				}
				return m.ID
			},
			act: func(e *env, id string) error {
				_, err := e.dg.ChannelMessageEdit(e.channel, id, "resolved")
				return err
			},
			check: func(t *testing.T, e *env, id string) {
				m, _ := e.srv.Message(id)
				if m.Content != "resolved" || e.srv.Edits(id) != 1 {
					t.Errorf("message %q after %d edits, want %q after 1", m.Content, e.srv.Edits(id), "resolved")
				}
			},
		},
		{
			name: "thread on a message", route: "/channels/{channel_id}/messages/{message_id}/threads", wantStatus: 201,
			setup: func(t *testing.T, e *env) string {
				m, err := e.dg.ChannelMessageSend(e.channel, "firing")
				if err != nil {
					t.Fatal(err)
				}
				return m.ID
			},
			act: func(e *env, id string) error {
				_, err := e.dg.MessageThreadStartComplex(e.channel, id, &discordgo.ThreadStart{Name: "inc-7", AutoArchiveDuration: 1440})
				return err
			},
			check: func(t *testing.T, e *env, id string) {
				if th := e.srv.Threads(e.channel); len(th) != 1 || th[0].ID != id || th[0].Name != "inc-7" {
					t.Errorf("threads = %+v, want inc-7 on message %s", th, id)
				}
			},
		},
		{
			name: "forum post", route: "/channels/{channel_id}/threads", wantStatus: 201,
			act: func(e *env, _ string) error {
				_, err := e.dg.ForumThreadStartComplex(e.forum, &discordgo.ThreadStart{Name: "postmortem inc-7"}, &discordgo.MessageSend{Content: "summary"})
				return err
			},
			check: func(t *testing.T, e *env, _ string) {
				th := e.srv.Threads(e.forum)
				if len(th) != 1 || th[0].Name != "postmortem inc-7" {
					t.Fatalf("forum posts = %+v, want postmortem inc-7", th)
				}
				if msgs := e.srv.Messages(th[0].ID); len(msgs) != 1 || msgs[0].Content != "summary" {
					t.Errorf("post messages = %+v, want the summary", msgs)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			var id string
			if tc.setup != nil {
				id = tc.setup(t, e)
			}
			e.srv.InjectFault(Fault{Route: tc.route, DropAfterHandle: true, Times: 1})
			err := tc.act(e, id)
			if err == nil {
				t.Fatal("call succeeded, want a transport error")
			}
			var re *discordgo.RESTError
			if errors.As(err, &re) {
				t.Fatalf("got an HTTP answer %d %s, want a transport error", re.Response.StatusCode, re.ResponseBody)
			}
			tc.check(t, e, id)
			var faulted []Request
			for _, r := range e.srv.Requests() {
				if r.Faulted {
					faulted = append(faulted, r)
				}
			}
			if len(faulted) != 1 || faulted[0].Route != tc.route || faulted[0].Status != tc.wantStatus {
				t.Errorf("faulted requests = %+v, want one on %s recorded with status %d", faulted, tc.route, tc.wantStatus)
			}
			// Times: 1: the next call is answered.
			if _, err := e.dg.ChannelMessageSend(e.channel, "after"); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

// TestLostResponseRetryWithNonce is the case nonces exist for: the
// response to a create is lost after Discord created the message, and the
// retry with the same nonce and enforce_nonce gets that message instead of
// posting it twice.
func TestLostResponseRetryWithNonce(t *testing.T) {
	e := newEnv(t, Options{})
	e.srv.InjectFault(Fault{Method: "POST", Route: "/channels/{channel_id}/messages", DropAfterHandle: true, Times: 1})
	body := map[string]any{"content": "firing: HighLatency", "nonce": "grp-42-1", "enforce_nonce": true}
	if _, _, err := sendRaw(e.dg, e.channel, body, nil); err == nil {
		t.Fatal("first create succeeded, want a transport error")
	}
	if got, want := e.srv.MessageCount(e.channel), 1; got != want {
		t.Fatalf("after the lost response: %d messages, want %d", got, want)
	}
	created := e.srv.Messages(e.channel)[0]
	retry, _, err := sendRaw(e.dg, e.channel, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if retry.ID != created.ID {
		t.Errorf("retry answered message %s, want the one created before, %s", retry.ID, created.ID)
	}
	if got, want := e.srv.MessagesCreated(e.channel), 1; got != want {
		t.Errorf("MessagesCreated = %d, want %d", got, want)
	}
}
