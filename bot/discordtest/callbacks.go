package discordtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/bwmarrin/discordgo"
)

func init() {
	const wh = "/webhooks/{webhook_id}/{webhook_token}"
	register(map[string]handler{
		"POST /interactions/{interaction_id}/{interaction_token}/callback": hCallback,
		"POST " + wh:                              hExecuteWebhook,
		"GET " + wh + "/messages/@original":       hWebhookMessage("GET"),
		"PATCH " + wh + "/messages/@original":     hWebhookMessage("PATCH"),
		"DELETE " + wh + "/messages/@original":    hWebhookMessage("DELETE"),
		"GET " + wh + "/messages/{message_id}":    hWebhookMessage("GET"),
		"PATCH " + wh + "/messages/{message_id}":  hWebhookMessage("PATCH"),
		"DELETE " + wh + "/messages/{message_id}": hWebhookMessage("DELETE"),
	})
}

// callbackBody is the interaction callback request body.
type callbackBody struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data json.RawMessage                   `json:"data"`
}

// allowedCallback reports whether a callback type may answer an interaction type.
func allowedCallback(it discordgo.InteractionType, ct discordgo.InteractionResponseType) bool {
	switch ct {
	case discordgo.InteractionResponseChannelMessageWithSource, discordgo.InteractionResponseDeferredChannelMessageWithSource:
		return it == discordgo.InteractionApplicationCommand || it == discordgo.InteractionMessageComponent || it == discordgo.InteractionModalSubmit
	case discordgo.InteractionResponseDeferredMessageUpdate, discordgo.InteractionResponseUpdateMessage:
		return it == discordgo.InteractionMessageComponent || it == discordgo.InteractionModalSubmit
	case discordgo.InteractionApplicationCommandAutocompleteResult:
		return it == discordgo.InteractionApplicationCommandAutocomplete
	case discordgo.InteractionResponseModal:
		return it == discordgo.InteractionApplicationCommand || it == discordgo.InteractionMessageComponent
	case discordgo.InteractionResponsePong:
		return it == discordgo.InteractionPing
	}
	return false
}

func hCallback(c *call) (int, any) {
	s := c.s
	var cb callbackBody
	if err := c.decode(&cb); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	status, msgID, e := s.acknowledge(c.params["interaction_id"], c.params["interaction_token"], "callback", cb, c.files, c)
	if e != nil {
		return 0, e
	}
	if c.query.Get("with_response") == "true" {
		s.mu.Lock()
		defer s.mu.Unlock()
		res := map[string]any{"type": int(cb.Type)}
		if m := s.st.messages[msgID]; m != nil {
			res["message"] = s.messageJSON(m)
		}
		return 200, map[string]any{
			"interaction": map[string]any{"id": c.params["interaction_id"], "type": 2, "response_message_loading": cb.Type == 5, "response_message_ephemeral": false},
			"resource":    res,
		}
	}
	return status, nil
}

// acknowledge applies an interaction callback (from the REST route or from
// the body of an HTTP interaction answer) and records it.
func (s *Server) acknowledge(id, token, kind string, cb callbackBody, files []Attachment, c *call) (int, string, *apiError) {
	var pending []string
	defer func() {
		for _, d := range pending {
			v := &Violation{Kind: "interaction", Detail: d}
			if c != nil {
				v.Method, v.Path, v.Route = c.method, c.path, c.route
			}
			s.violate(v)
		}
	}()
	viol := func(d string) { pending = append(pending, d) }
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.interactions[id]
	if rec == nil || rec.Token != token {
		viol("callback for unknown interaction " + id)
		return 0, "", errUnknownInteraction
	}
	if rec.Acked {
		viol("interaction " + id + " acknowledged twice")
		return 0, "", errAlreadyAcked
	}
	elapsed := time.Since(rec.SentAt)
	if elapsed > s.opts.InteractionDeadline {
		if !rec.Late {
			viol(fmt.Sprintf("interaction %s acknowledged after %v (limit %v)", id, elapsed.Round(time.Millisecond), s.opts.InteractionDeadline))
		}
		rec.Late = true
		return 0, "", errUnknownInteraction
	}
	if !allowedCallback(rec.Type, cb.Type) {
		viol(fmt.Sprintf("callback type %d is not valid for interaction type %d", cb.Type, rec.Type))
		return 0, "", formError([]fieldError{{Path: []string{"type"}, Code: "INTERACTION_RESPONSE_TYPE_INVALID", Message: "Invalid interaction response type"}})
	}
	var p msgPayload
	if present(cb.Data) {
		if err := json.Unmarshal(cb.Data, &p); err != nil {
			return 0, "", errf(400, 50035, "Invalid Form Body")
		}
	}
	resp := Response{InteractionID: id, Kind: kind, Type: cb.Type, Data: slices.Clone(cb.Data), Files: files,
		At: time.Now(), Elapsed: elapsed, Status: 204}
	if p.Content != nil {
		resp.Content = *p.Content
	}
	if p.Flags != nil {
		resp.Flags = *p.Flags
	}
	switch cb.Type {
	case discordgo.InteractionResponseChannelMessageWithSource, discordgo.InteractionResponseDeferredChannelMessageWithSource:
		ch := s.st.channels[rec.ChannelID]
		if ch == nil {
			return 0, "", errUnknownChannel
		}
		if cb.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
			flags := int(discordgo.MessageFlagsLoading) | resp.Flags
			p = msgPayload{Flags: &flags}
		} else if p.empty(files) {
			viol("interaction response message is empty")
			return 0, "", errEmptyMessage
		}
		m, e := s.newMessageLocked(ch, &p, files, s.botUser())
		if e != nil {
			return 0, "", e
		}
		m.InteractionID = id
		rec.OriginalID, resp.MessageID = m.ID, m.ID
	case discordgo.InteractionResponseDeferredMessageUpdate:
		rec.OriginalID, resp.MessageID = rec.MessageID, rec.MessageID
	case discordgo.InteractionResponseUpdateMessage:
		m := s.st.messages[rec.MessageID]
		if m == nil {
			return 0, "", errUnknownMessage
		}
		if e := s.editLocked(m, &p, files); e != nil {
			return 0, "", e
		}
		rec.OriginalID, resp.MessageID = m.ID, m.ID
	}
	rec.Acked, rec.AckedAfter = true, elapsed
	if rec.timer != nil && rec.timer.Stop() {
		s.wg.Done()
	}
	rec.Responses = append(rec.Responses, resp)
	return 204, resp.MessageID, nil
}

// webhookTarget resolves /webhooks/{id}/{token}: an interaction webhook
// (application id + interaction token) or an incoming webhook.
func (s *Server) webhookTargetLocked(c *call) (rec *interaction, wh *Webhook, e *apiError) {
	id, token := c.params["webhook_id"], c.params["webhook_token"]
	if id == s.opts.ApplicationID {
		if iid, ok := s.st.tokens[token]; ok {
			return s.st.interactions[iid], nil, nil
		}
	}
	wh = s.st.webhooks[id]
	if wh == nil {
		return nil, nil, errUnknownWebhook
	}
	if wh.Token != token {
		return nil, nil, errf(401, 50027, "Invalid Webhook Token")
	}
	return nil, wh, nil
}

func hExecuteWebhook(c *call) (int, any) {
	s := c.s
	var p msgPayload
	if err := c.decode(&p); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	if p.empty(c.files) {
		c.violate("body", "empty webhook message")
		return 0, errEmptyMessage
	}
	wait := c.query.Get("wait") == "true" || c.query.Get("wait") == "1"
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, wh, e := s.webhookTargetLocked(c)
	if e != nil {
		return 0, e
	}
	if rec != nil { // interaction follow-up
		if !rec.Acked {
			c.violate("interaction", "follow-up before the interaction was acknowledged")
			return 0, errUnknownWebhook
		}
		ch, e := s.postableLocked(rec.ChannelID)
		if e != nil {
			return 0, e
		}
		m, e := s.newMessageLocked(ch, &p, c.files, s.botUser())
		if e != nil {
			return 0, e
		}
		m.InteractionID = rec.ID
		c.chanID = ch.ID
		s.recordWebhookResponse(rec, "followup", c, &p, m.ID)
		if !wait {
			return 204, nil
		}
		return 200, s.messageJSON(m)
	}
	target := wh.ChannelID
	if t := c.query.Get("thread_id"); t != "" {
		target = t
	}
	ch, e := s.postableLocked(target)
	if e != nil {
		return 0, e
	}
	name := wh.Name
	if p.Username != "" {
		name = p.Username
	}
	m, e := s.newMessageLocked(ch, &p, c.files, User{ID: wh.ID, Username: name, Bot: true})
	if e != nil {
		return 0, e
	}
	m.WebhookID = wh.ID
	c.chanID = ch.ID
	if !wait {
		return 204, nil
	}
	return 200, s.messageJSON(m)
}

func (s *Server) recordWebhookResponse(rec *interaction, kind string, c *call, p *msgPayload, msgID string) {
	r := Response{InteractionID: rec.ID, Kind: kind, Data: slices.Clone(c.payload), Files: c.files,
		MessageID: msgID, At: time.Now(), Elapsed: time.Since(rec.SentAt), Status: 200}
	if p != nil && p.Content != nil {
		r.Content = *p.Content
	}
	if p != nil && p.Flags != nil {
		r.Flags = *p.Flags
	}
	rec.Responses = append(rec.Responses, r)
}

func hWebhookMessage(method string) handler {
	return func(c *call) (int, any) {
		s := c.s
		var p msgPayload
		if method == "PATCH" {
			if err := c.decode(&p); err != nil {
				return 0, errf(400, 50109, "The request body contains invalid JSON.")
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		rec, wh, e := s.webhookTargetLocked(c)
		if e != nil {
			return 0, e
		}
		mid := c.params["message_id"]
		original := mid == ""
		var m *Message
		if rec != nil {
			if original {
				mid = rec.OriginalID
			}
			m = s.st.messages[mid]
			if m == nil || m.Deleted || (m.InteractionID != rec.ID && mid != rec.MessageID) {
				return 0, errUnknownMessage
			}
		} else {
			m = s.st.messages[mid]
			if original || m == nil || m.Deleted || m.WebhookID != wh.ID {
				return 0, errUnknownMessage
			}
		}
		c.chanID = m.ChannelID
		kind := "followup"
		if original {
			kind = "original"
		}
		switch method {
		case "GET":
			return 200, s.messageJSON(m)
		case "DELETE":
			cp := m.clone()
			cp.Deleted = true
			*m = cp
			if rec != nil {
				s.recordWebhookResponse(rec, "delete-"+kind, c, nil, m.ID)
			}
			return 204, nil
		}
		if e := s.editLocked(m, &p, c.files); e != nil {
			return 0, e
		}
		if m.Flags&int(discordgo.MessageFlagsLoading) != 0 {
			cp := m.clone()
			cp.Flags &^= int(discordgo.MessageFlagsLoading)
			*m = cp
		}
		if rec != nil {
			s.recordWebhookResponse(rec, "edit-"+kind, c, &p, m.ID)
		}
		return 200, s.messageJSON(m)
	}
}

// CreateWebhook creates an incoming webhook posting into channelID and
// returns its id, token and URL (URL()+"/api/webhooks/{id}/{token}", the
// form Discord hands out).
func (s *Server) CreateWebhook(channelID string) (id, token, url string) {
	s.mu.Lock()
	id = s.st.nextID(s.opts.Now())
	token = randomToken()[:68]
	gid := ""
	if ch := s.st.channels[channelID]; ch != nil {
		gid = ch.GuildID
	}
	s.st.webhooks[id] = &Webhook{ID: id, Token: token, ChannelID: channelID, GuildID: gid, Name: "Captain Hook"}
	s.mu.Unlock()
	return id, token, s.URL() + "/api/webhooks/" + id + "/" + token
}
