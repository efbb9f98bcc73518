package discordtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// ANSI styles for Transcript.Paint (and TranscriptOptions.EmbedColors).
const (
	Reset   = "\x1b[0m"
	Bold    = "\x1b[1m"
	Dim     = "\x1b[2m"
	Red     = "\x1b[31m"
	Green   = "\x1b[32m"
	Yellow  = "\x1b[33m"
	Blue    = "\x1b[34m"
	Magenta = "\x1b[35m"
	Cyan    = "\x1b[36m"
	Orange  = "\x1b[38;5;208m"
)

// EmbedColor says what an embed colour means in a transcript: a word
// ("P0 red") and the ANSI style its bar is painted with.
type EmbedColor struct {
	Word, Style string
}

// TranscriptOptions configure NewTranscript.
type TranscriptOptions struct {
	Color   bool      // ANSI colours
	Verbose bool      // also print requests that have no readable form (GETs, …)
	Start   time.Time // time stamps are relative to it; default now
	// EmbedColors names embed colours; others are shown as #RRGGBB.
	EmbedColors map[int]EmbedColor
	// Now is the clock for relative <t:…:R> timestamps; default time.Now.
	Now func() time.Time
}

// TranscriptStats counts what a transcript has printed.
type TranscriptStats struct {
	Posts, Edits, DMs, Threads int
	Limited                    int // requests answered 429
	Violations                 int // violations printed
}

// Event is a line group from outside the fake Discord (a phone call, say)
// that Flush prints in time order with the requests.
type Event struct {
	At    time.Time
	Print func()
}

// Transcript turns the fake Discord's request log into readable lines: who
// posts, edits, opens a thread or sends a DM where, message bodies with
// mentions resolved to names, embeds with their colours, buttons, and who is
// notified. Each Flush prints the requests answered since the last one, in
// order, and the violations found meanwhile. It is safe for concurrent use.
type Transcript struct {
	s    *Server
	out  io.Writer
	opts TranscriptOptions

	mu     sync.Mutex
	names  map[string]string // role/user id → display name
	labels map[string]string // message id → "msg #n"
	seen   int               // requests printed
	stats  TranscriptStats
}

// NewTranscript prints s's requests to out.
func NewTranscript(s *Server, out io.Writer, o TranscriptOptions) *Transcript {
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Transcript{s: s, out: out, opts: o, names: map[string]string{}, labels: map[string]string{}}
}

// SetName gives a role or user id the name the transcript shows (without @).
func (t *Transcript) SetName(id, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.names[id] = name
}

// Stats returns the counts so far.
func (t *Transcript) Stats() TranscriptStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Seen is the number of requests printed (or skipped) so far.
func (t *Transcript) Seen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen
}

// Flush prints the requests answered since the last Flush and the extra
// events, ordered by time, then the new violations. A request still in
// flight stops the walk: it and those after it are printed once answered.
func (t *Transcript) Flush(extra ...Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	reqs := t.s.Requests()
	evs := extra
	for _, r := range reqs[min(t.seen, len(reqs)):] {
		if r.Status == 0 {
			break
		}
		evs = append(evs, Event{r.Time, func() { t.request(r) }})
		t.seen++
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	for _, e := range evs {
		e.Print()
	}
	if v := t.s.Violations(); len(v) > t.stats.Violations {
		for _, err := range v[t.stats.Violations:] {
			t.Line(t.Paint(Red, "  ⚠ the real Discord would reject this: "+err.Error()))
		}
		t.stats.Violations = len(v)
	}
}

// Paint wraps s in an ANSI style when colours are on.
func (t *Transcript) Paint(style, s string) string {
	if !t.opts.Color || style == "" {
		return s
	}
	return style + s + Reset
}

// Dimmed paints s dim.
func (t *Transcript) Dimmed(s string) string { return t.Paint(Dim, s) }

// Line prints one line.
func (t *Transcript) Line(s string) { fmt.Fprintln(t.out, s) }

// Stamp is the time stamp of a line: seconds since Start.
func (t *Transcript) Stamp(at time.Time) string {
	return t.Dimmed(fmt.Sprintf("%+7.2fs", at.Sub(t.opts.Start).Seconds()))
}

// shownPayload is the part of a message create/edit body the transcript shows.
type shownPayload struct {
	Content         *string                           `json:"content"`
	Embeds          []*discordgo.MessageEmbed         `json:"embeds"`
	Components      json.RawMessage                   `json:"components"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Name            string                            `json:"name"` // threads
	Attachments     []struct {
		Filename string `json:"filename"`
	} `json:"attachments"`
	files []string // uploaded file names (multipart)
}

var (
	reMessages = regexp.MustCompile(`^/channels/(\d+)/messages$`)
	reMessage  = regexp.MustCompile(`^/channels/(\d+)/messages/(\d+)$`)
	reThread   = regexp.MustCompile(`^/channels/(\d+)/(?:messages/(\d+)/)?threads$`)
	rePin      = regexp.MustCompile(`^/channels/(\d+)/(?:messages/)?pins/(\d+)$`)
	reReaction = regexp.MustCompile(`^/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me$`)
)

// request prints one request the fake Discord answered.
func (t *Transcript) request(r Request) {
	at := t.Stamp(r.Time)
	if r.Status == http.StatusTooManyRequests {
		t.stats.Limited++
		t.Line(fmt.Sprintf("%s %s", at, t.Dimmed(fmt.Sprintf("⏳ rate limited on %s %s: Klaxon waits and retries", r.Method, r.Route))))
		return
	}
	if r.Status >= 300 {
		t.Line(fmt.Sprintf("%s %s", at, t.Paint(Red, fmt.Sprintf("✗ %s %s answered %d", r.Method, r.Path, r.Status))))
		return
	}
	switch {
	case r.Method == http.MethodPost && reMessages.MatchString(r.Path):
		ch := reMessages.FindStringSubmatch(r.Path)[1]
		p := parseShownPayload(r)
		label := t.labelCreated(ch)
		where, dm := t.channelName(ch)
		verb := "posts"
		if dm {
			t.stats.DMs++
			verb = "sends a DM"
		} else {
			t.stats.Posts++
		}
		t.Line(fmt.Sprintf("%s %s %s %s", at, t.Paint(Cyan+Bold, where), t.Paint(Bold, verb), t.Dimmed(label)))
		t.message(p)
	case r.Method == http.MethodPatch && reMessage.MatchString(r.Path):
		sm := reMessage.FindStringSubmatch(r.Path)
		p := parseShownPayload(r)
		t.stats.Edits++
		where, _ := t.channelName(sm[1])
		label := t.labels[sm[2]]
		if label == "" {
			label = "message " + sm[2]
		}
		t.Line(fmt.Sprintf("%s %s %s %s", at, t.Paint(Cyan+Bold, where), t.Paint(Bold, "edits"), label))
		t.message(p)
	case r.Method == http.MethodPost && reThread.MatchString(r.Path):
		sm := reThread.FindStringSubmatch(r.Path)
		p := parseShownPayload(r)
		t.stats.Threads++
		where, _ := t.channelName(sm[1])
		on := ""
		if sm[2] != "" && t.labels[sm[2]] != "" {
			on = " on " + t.labels[sm[2]]
		}
		t.Line(fmt.Sprintf("%s %s %s “%s”%s", at, t.Paint(Cyan+Bold, where), t.Paint(Bold, "opens a thread"), p.Name, on))
	case r.Method == http.MethodPut && rePin.MatchString(r.Path):
		sm := rePin.FindStringSubmatch(r.Path)
		where, _ := t.channelName(sm[1])
		label := t.labels[sm[2]]
		if label == "" {
			label = "message " + sm[2]
		}
		t.Line(fmt.Sprintf("%s %s %s %s", at, t.Paint(Cyan+Bold, where), t.Paint(Bold, "📌 pins"), label))
	case r.Method == http.MethodPut && reReaction.MatchString(r.Path):
		sm := reReaction.FindStringSubmatch(r.Path)
		where, _ := t.channelName(sm[1])
		t.Line(fmt.Sprintf("%s %s reacts %s to %s", at, t.Paint(Cyan+Bold, where), unescapePath(sm[3]), t.labels[sm[2]]))
	case r.Method == http.MethodDelete && reMessage.MatchString(r.Path):
		sm := reMessage.FindStringSubmatch(r.Path)
		where, _ := t.channelName(sm[1])
		t.Line(fmt.Sprintf("%s %s deletes %s", at, t.Paint(Cyan+Bold, where), t.labels[sm[2]]))
	case r.Method == http.MethodPost && r.Path == "/users/@me/channels":
		var body struct {
			Recipient string `json:"recipient_id"`
		}
		_ = json.Unmarshal(r.Body, &body)
		t.Line(fmt.Sprintf("%s %s", at, t.Dimmed("opens a DM with @"+t.name(body.Recipient))))
	default:
		if t.opts.Verbose {
			t.Line(fmt.Sprintf("%s %s", at, t.Dimmed(fmt.Sprintf("%s %s → %d", r.Method, r.Path, r.Status))))
		}
	}
}

// labelCreated gives the message a create request made a short label: it is
// the oldest message of the channel without one (Flush runs on every change).
func (t *Transcript) labelCreated(channel string) string {
	for _, m := range t.s.Messages(channel) {
		if _, ok := t.labels[m.ID]; ok {
			continue
		}
		l := fmt.Sprintf("msg #%d", len(t.labels)+1)
		t.labels[m.ID] = l
		return l
	}
	return ""
}

func parseShownPayload(r Request) shownPayload {
	var p shownPayload
	body := r.Body
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
		body = nil
		mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() == "payload_json" {
				body, _ = io.ReadAll(part)
			} else if part.FileName() != "" {
				p.files = append(p.files, part.FileName())
			}
		}
	}
	_ = json.Unmarshal(body, &p)
	return p
}

// message prints a message body: content with mentions resolved, embeds, buttons, who is pinged.
func (t *Transcript) message(p shownPayload) {
	const ind = "      "
	if p.Content != nil && *p.Content != "" {
		for _, l := range strings.Split(t.mentions(*p.Content), "\n") {
			t.Line(ind + l)
		}
	}
	for _, e := range p.Embeds {
		word, style := t.embedColor(e.Color)
		bar := t.Paint(style, "┃")
		t.Line(fmt.Sprintf("%s%s %s %s", ind, bar, t.Paint(style, "["+word+"]"), t.Paint(Bold, t.mentions(e.Title))))
		if e.URL != "" {
			t.Line(fmt.Sprintf("%s%s %s", ind, bar, t.Dimmed(e.URL)))
		}
		if e.Description != "" {
			for _, l := range strings.Split(t.mentions(e.Description), "\n") {
				t.Line(fmt.Sprintf("%s%s %s", ind, bar, l))
			}
		}
		for _, f := range e.Fields {
			lines := strings.Split(t.mentions(f.Value), "\n")
			t.Line(fmt.Sprintf("%s%s %s %s", ind, bar, t.Paint(Bold, f.Name+":"), lines[0]))
			for _, l := range lines[1:] {
				t.Line(fmt.Sprintf("%s%s   %s", ind, bar, l))
			}
		}
		if e.Footer != nil && e.Footer.Text != "" {
			t.Line(fmt.Sprintf("%s%s %s", ind, bar, t.Dimmed(e.Footer.Text)))
		}
	}
	if bs := ComponentButtons(p.Components); len(bs) > 0 {
		var parts []string
		for _, b := range bs {
			s := "[" + b.Label + "]"
			if b.URL != "" {
				s = "[" + b.Label + " ↗ " + b.URL + "]"
			}
			if b.Disabled {
				s += "(disabled)"
			}
			parts = append(parts, s)
		}
		t.Line(ind + t.Paint(Magenta, "buttons: "+strings.Join(parts, " ")))
	} else if p.Components != nil && string(p.Components) == "[]" {
		t.Line(ind + t.Dimmed("buttons removed"))
	}
	for _, f := range append(p.files, attachmentNames(p)...) {
		t.Line(ind + t.Dimmed("📎 "+f))
	}
	if am := p.AllowedMentions; am != nil && len(am.Roles)+len(am.Users) > 0 {
		var who []string
		for _, r := range am.Roles {
			who = append(who, "@"+t.name(r))
		}
		for _, u := range am.Users {
			who = append(who, "@"+t.name(u))
		}
		t.Line(ind + t.Paint(Yellow+Bold, "🔔 notifies "+strings.Join(who, ", ")))
	}
}

// embedColor names an embed colour by what it means, and its style.
func (t *Transcript) embedColor(c int) (word, style string) {
	if ec, ok := t.opts.EmbedColors[c]; ok {
		return ec.Word, ec.Style
	}
	return fmt.Sprintf("#%06X", c), ""
}

func attachmentNames(p shownPayload) []string {
	var out []string
	for _, a := range p.Attachments {
		if a.Filename != "" && !slices.Contains(p.files, a.Filename) {
			out = append(out, a.Filename)
		}
	}
	return out
}

var (
	reMention   = regexp.MustCompile(`<(@&|@!?|#)(\d+)>`)
	reTimestamp = regexp.MustCompile(`<t:(-?\d+)(?::([tTdDfFR]))?>`)
	reBold      = regexp.MustCompile(`\*\*([^*\n]+)\*\*`)
)

// mentions makes Discord markup readable: <@&role>, <@user> and <#channel>
// become names, <t:…> timestamps become times, **bold** is bold.
func (t *Transcript) mentions(s string) string {
	s = reMention.ReplaceAllStringFunc(s, func(m string) string {
		sm := reMention.FindStringSubmatch(m)
		if sm[1] == "#" {
			name, _ := t.channelName(sm[2])
			return name
		}
		return "@" + t.name(sm[2])
	})
	s = reTimestamp.ReplaceAllStringFunc(s, func(m string) string {
		sm := reTimestamp.FindStringSubmatch(m)
		var sec int64
		_, _ = fmt.Sscan(sm[1], &sec)
		ts := time.Unix(sec, 0)
		if sm[2] == "R" {
			if ago := t.opts.Now().Sub(ts).Round(time.Second); ago >= 0 {
				return ago.String() + " ago"
			}
			return "in " + ts.Sub(t.opts.Now()).Round(time.Second).String()
		}
		return ts.Format("2006-01-02 15:04:05 MST")
	})
	return reBold.ReplaceAllStringFunc(s, func(m string) string {
		return t.Paint(Bold, reBold.FindStringSubmatch(m)[1])
	})
}

func (t *Transcript) name(id string) string {
	if n, ok := t.names[id]; ok {
		return n
	}
	return "unknown-" + lastDigits(id)
}

// channelName is "#name", "#parent › thread" or "DM @user"; dm reports the latter.
func (t *Transcript) channelName(id string) (string, bool) {
	c, ok := t.s.Channel(id)
	if !ok {
		return "#unknown-" + lastDigits(id), false
	}
	if len(c.RecipientIDs) > 0 {
		var who []string
		for _, u := range c.RecipientIDs {
			who = append(who, "@"+t.name(u))
		}
		return "DM " + strings.Join(who, ", "), true
	}
	if c.IsThread() {
		parent, _ := t.channelName(c.ParentID)
		return parent + " › " + c.Name, false
	}
	return "#" + c.Name, false
}

func lastDigits(id string) string {
	if len(id) > 4 {
		return id[len(id)-4:]
	}
	return id
}

func unescapePath(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
