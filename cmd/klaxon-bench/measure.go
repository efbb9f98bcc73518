package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// The storm names its groups StormNNNNN (P2/P3) and OutageNNN (P0), so that a
// group is found in any message by its alertname alone.
var groupNameRE = regexp.MustCompile(`\b(?:Storm\d{5}|Outage\d{3})\b`)

// resolvedMarks are what a line says when it shows a group resolved: Klaxon's
// cards and digest lines start with ✅, Alertmanager's default Discord title
// starts with [RESOLVED].
var resolvedMarks = []string{"✅", "[RESOLVED]"}

// scanText returns the group names a message's text mentions, each with
// whether some line mentioning it also shows it resolved.
func scanText(text string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		names := groupNameRE.FindAllString(line, -1)
		if len(names) == 0 {
			continue
		}
		resolved := false
		for _, m := range resolvedMarks {
			if strings.Contains(line, m) {
				resolved = true
			}
		}
		for _, n := range names {
			out[n] = out[n] || resolved
		}
	}
	return out
}

// messageText flattens what a message shows: content and every embed's
// title, description, fields and footer, one part per line.
func messageText(content string, embeds []*discordgo.MessageEmbed) string {
	var b strings.Builder
	b.WriteString(content)
	for _, e := range embeds {
		if e == nil {
			continue
		}
		b.WriteString("\n" + e.Title + "\n" + e.Description)
		for _, f := range e.Fields {
			if f != nil {
				b.WriteString("\n" + f.Name + "\n" + f.Value)
			}
		}
		if e.Footer != nil {
			b.WriteString("\n" + e.Footer.Text)
		}
	}
	return b.String()
}

// payloadText is messageText of a message create/edit request body (JSON;
// also the "message" of a forum thread creation). Other bodies give "".
func payloadText(body []byte) string {
	type msg struct {
		Content string                    `json:"content"`
		Embeds  []*discordgo.MessageEmbed `json:"embeds"`
	}
	var p struct {
		msg
		Message *msg `json:"message"`
	}
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &p) != nil {
		return ""
	}
	text := messageText(p.Content, p.Embeds)
	if p.Message != nil {
		text += "\n" + messageText(p.Message.Content, p.Message.Embeds)
	}
	return text
}

// shownMessage is a message as it stands at the end of the run.
type shownMessage struct {
	Channel   string // the channel it is in; for a thread, the thread's parent
	CreatedAt time.Time
	Text      string
}

// Presence is what a receiver shows of the groups at the end of the run.
type Presence struct {
	Represented map[string]bool
	// A group whose resolution shows on a message created before the
	// resolutions were pushed was edited in place; one shown resolved only
	// on a message created afterwards got a new message.
	ResolvedEdited map[string]bool
	ResolvedNew    map[string]bool
}

// presence finds each group in the messages: it counts only where it belongs
// (channelOf gives the channel a group must appear in for this receiver).
func presence(msgs []shownMessage, channelOf func(name string) (string, bool), resolvesPushed time.Time) Presence {
	p := Presence{Represented: map[string]bool{}, ResolvedEdited: map[string]bool{}, ResolvedNew: map[string]bool{}}
	for _, m := range msgs {
		for name, resolved := range scanText(m.Text) {
			if ch, ok := channelOf(name); !ok || ch != m.Channel {
				continue
			}
			p.Represented[name] = true
			if !resolved {
				continue
			}
			if !resolvesPushed.IsZero() && m.CreatedAt.Before(resolvesPushed) {
				p.ResolvedEdited[name] = true
			} else {
				p.ResolvedNew[name] = true
			}
		}
	}
	for name := range p.ResolvedEdited {
		delete(p.ResolvedNew, name) // edited in place wins when both happened
	}
	return p
}

// sentMessage is a successful request that created or edited a message.
type sentMessage struct {
	At      time.Time
	Channel string // parent channel for threads
	Text    string
}

// firstSeen returns, per group, when a request first put it on Discord (in
// its channel) and when a request first showed it resolved.
func firstSeen(sent []sentMessage, channelOf func(name string) (string, bool)) (shown, resolved map[string]time.Time) {
	shown, resolved = map[string]time.Time{}, map[string]time.Time{}
	for _, s := range sent {
		for name, res := range scanText(s.Text) {
			if ch, ok := channelOf(name); !ok || ch != s.Channel {
				continue
			}
			if t, ok := shown[name]; !ok || s.At.Before(t) {
				shown[name] = s.At
			}
			if res {
				if t, ok := resolved[name]; !ok || s.At.Before(t) {
					resolved[name] = s.At
				}
			}
		}
	}
	return shown, resolved
}

// lastOf returns the latest time among names in seen, and how many names
// are missing from it.
func lastOf(seen map[string]time.Time, names []string) (last time.Time, missing int) {
	for _, n := range names {
		t, ok := seen[n]
		if !ok {
			missing++
			continue
		}
		if t.After(last) {
			last = t
		}
	}
	return last, missing
}
