package discord

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"

	"github.com/marola-rp/klaxon/bot/text"
)

// Discord's message limits, counted in runes.
const (
	MaxContent      = 2000
	MaxEmbeds       = 10
	MaxEmbedTotal   = 6000
	MaxTitle        = 256
	MaxDescription  = 4096
	MaxFields       = 25
	MaxFieldName    = 256
	MaxFieldValue   = 1024
	MaxFooter       = 2048
	MaxAuthor       = 256
	MaxRows         = 5
	MaxRowButtons   = 5
	MaxCustomID     = 100
	MaxButtonLabel  = 80
	MaxURL          = 512
	MaxThreadName   = 100
	maxMentionIDs   = 100
	defaultMaxAlert = 10
)

// Embed colours.
const (
	ColorP0       = 0xE01E1E
	ColorP1       = 0xF2711C
	ColorP2       = 0xF2C037
	ColorP3       = 0x3B82F6
	ColorResolved = 0x2EB67D
	ColorAlarm    = 0xE01E1E // same red as P0
	ColorWarning  = 0xF0A202
	ColorTriage   = 0xF2C037 // same yellow as P2
	ColorMuted    = 0x808080
	ColorInfo     = 0x4A90D9
	ColorDocument = 0x5865F2 // Discord blurple
)

// toneColors maps the core's tones to embed colours; bot.ToneNone is 0 (no accent).
var toneColors = map[bot.Tone]int{
	bot.ToneP0: ColorP0, bot.ToneP1: ColorP1, bot.ToneP2: ColorP2, bot.ToneP3: ColorP3,
	bot.ToneResolved: ColorResolved, bot.ToneAlarm: ColorAlarm, bot.ToneWarning: ColorWarning,
	bot.ToneTriage: ColorTriage, bot.ToneMuted: ColorMuted, bot.ToneInfo: ColorInfo, bot.ToneDocument: ColorDocument,
}

// ToneColor is the embed colour of a tone.
func ToneColor(t bot.Tone) int { return toneColors[t] }

// RenderOptions tunes rendering.
type RenderOptions struct {
	// AlertmanagerURL is linked when a group carries no ExternalURL.
	AlertmanagerURL string
	// MaxAlerts is how many alerts a card lists one per line (default 10).
	MaxAlerts int
	// Actions, when set, returns interactive buttons (custom_id such as
	// "ack:<groupID>") for a post; they are rendered in rows after the link
	// buttons. Buttons with an invalid custom_id or URL are dropped.
	Actions func(v bot.View) []discordgo.Button
}

func (o RenderOptions) maxAlerts() int {
	if o.MaxAlerts <= 0 {
		return defaultMaxAlert
	}
	return o.MaxAlerts
}

// Message is a rendered post, convertible to a creation or an edit.
type Message struct {
	Content         string
	Embeds          []*discordgo.MessageEmbed
	Components      []discordgo.MessageComponent
	AllowedMentions *discordgo.MessageAllowedMentions
}

// Send returns the message as a creation.
func (m *Message) Send() *discordgo.MessageSend {
	return &discordgo.MessageSend{
		Content:         m.Content,
		Embeds:          m.Embeds,
		Components:      m.Components,
		AllowedMentions: m.AllowedMentions,
	}
}

// Edit returns the message as an edit of messageID in channelID. Content,
// embeds and components are all set, so the edit replaces them entirely.
func (m *Message) Edit(channelID, messageID string) *discordgo.MessageEdit {
	content := m.Content
	embeds := m.Embeds
	comps := m.Components
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	return &discordgo.MessageEdit{
		Channel:         channelID,
		ID:              messageID,
		Content:         &content,
		Embeds:          &embeds,
		Components:      &comps,
		AllowedMentions: m.AllowedMentions,
	}
}

// Render renders v by its post's kind. A post whose MessageID is "" is
// rendered as a creation (mentions may ping), otherwise as an edit.
func Render(v bot.View, opt RenderOptions) (*Message, error) {
	switch v.Post.Kind {
	case bot.Card:
		if len(v.Groups) == 0 || v.Groups[0] == nil {
			return nil, fmt.Errorf("card post %d has no alert group", v.Post.ID)
		}
		return renderCard(v, opt), nil
	case bot.Digest:
		return RenderDigest(v, opt), nil
	case bot.Page:
		return RenderPage(v, opt), nil
	}
	return nil, fmt.Errorf("post %d has unknown kind %q", v.Post.ID, v.Post.Kind)
}

// RenderCard renders the card of one alert group.
func RenderCard(g *bot.Group, p bot.Post, now time.Time, opt RenderOptions) *Message {
	return renderCard(bot.View{Post: p, Groups: []*bot.Group{g}, Now: now}, opt)
}

// cardFooter is a card's short human footer: "Klaxon #42 · P0 · 2 of 3
// firing". The start time is not written here: the embed's timestamp, which
// Discord shows right after the footer in each reader's own time zone, says
// when it started. #42 is the id /ack, /alerts and autocomplete use; the raw
// Alertmanager group key is logged with it (group_key on every webhook line).
func cardFooter(g *bot.Group) string {
	firing, _ := g.Counts()
	total := len(g.Alerts)
	plural := func(n int) string {
		if n == 1 {
			return "1 alert"
		}
		return fmt.Sprintf("%d alerts", n)
	}
	state := ""
	switch {
	case g.Status == bot.Resolved:
		state = "resolved · " + plural(total)
	case firing == total:
		state = plural(total) + " firing"
	default:
		state = fmt.Sprintf("%d of %s firing", firing, plural(total))
	}
	return fmt.Sprintf("Klaxon #%d · %s · %s", g.ID, g.Priority, state)
}

func renderCard(v bot.View, opt RenderOptions) *Message {
	g, p, now := v.Groups[0], v.Post, v.Now
	resolved := g.Status == bot.Resolved
	create := p.MessageID == ""

	summary, description := annotationText(g)
	title := fmt.Sprintf("%s %s · %s", priorityEmoji(g.Priority, resolved), g.Priority, short(g.Title(), 120))
	if summary != "" {
		title += " — " + short(summary, MaxTitle)
	}
	e := &discordgo.MessageEmbed{
		Type:   discordgo.EmbedTypeRich,
		Title:  truncate(title, MaxTitle),
		Color:  color(g.Priority, resolved),
		Footer: &discordgo.MessageEmbedFooter{Text: cardFooter(g)},
	}
	if t := g.StartedAt(); !t.IsZero() {
		e.Timestamp = t.UTC().Format(time.RFC3339)
	}

	firing, _ := g.Counts()
	total := len(g.Alerts)
	status := ""
	switch {
	case resolved:
		end := g.ResolvedAt
		if end.IsZero() {
			end = now
		}
		status = "Resolved after " + humanDuration(end.Sub(g.StartedAt()))
	case total == 1:
		status = "Firing · 1 alert"
	default:
		status = fmt.Sprintf("Firing · %d of %d alerts", firing, total)
	}
	source := g.PrioritySource
	if source == "" {
		source = "default"
	}
	e.Fields = append(e.Fields,
		&discordgo.MessageEmbedField{Name: "Status", Value: status, Inline: true},
		&discordgo.MessageEmbedField{Name: "Response", Value: response(g, now), Inline: true},
		&discordgo.MessageEmbedField{Name: "Priority", Value: truncate(fmt.Sprintf("%s (%s)", g.Priority, short(source, 150)), 200), Inline: true},
	)
	if t := g.StartedAt(); !t.IsZero() {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Started", Value: fmt.Sprintf("<t:%d:f> (<t:%d:R>)", t.Unix(), t.Unix()), Inline: true})
	}
	if len(g.Notes) > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "⚠️ Paging problems", Value: truncate(Markup(strings.Join(g.Notes, "\n")), 600)})
	}
	for _, k := range keyLabels {
		if val := g.Label(k); val != "" {
			e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: k, Value: codeSpan(oneLine(val, 200)), Inline: true})
		}
	}

	// Budget: the alert lines get what the fixed parts and description leave.
	lines := alertLines(g, summary, opt.maxAlerts())
	hiddenBeyond := len(g.Alerts) - len(lines)
	fixed := embedLen(e)
	alertsWant := min(runeLen(strings.Join(lines, "\n"))+120, 2500)
	if description != "" {
		budget := min(MaxDescription, MaxEmbedTotal-fixed-alertsWant)
		if budget > 40 {
			e.Description = closeFences(description, budget)
		}
	}
	left := MaxEmbedTotal - embedLen(e)
	tail := func(hidden int) []string {
		var t []string
		if hidden > 0 {
			t = append(t, fmt.Sprintf("… and %d more alert%s", hidden, plural(hidden)))
		}
		if g.TruncatedAlerts > 0 {
			t = append(t, fmt.Sprintf("+%d alert%s not sent by Alertmanager (max_alerts)", g.TruncatedAlerts, plural(g.TruncatedAlerts)))
		}
		return t
	}
	e.Fields = append(e.Fields, packLines("Alerts", lines, hiddenBeyond, tail, left, MaxFields-len(e.Fields))...)

	m := &Message{Embeds: []*discordgo.MessageEmbed{e}}
	// A card created after someone took the group (acknowledged or silenced
	// it while the card waited) shows the mention line but pings nobody.
	setMentions(m, p.Mentions, create && g.Ack == nil && g.Silence == nil, !resolved,
		fmt.Sprintf("**%s %s**: %s", g.Priority, g.Priority.Meaning(), contentText(g.Title())))

	var links []discordgo.Button
	runbook, source2 := "", ""
	runbook = g.CommonAnnotations["runbook_url"]
	for _, a := range g.Alerts {
		if runbook == "" {
			runbook = a.Annotations["runbook_url"]
		}
		if source2 == "" && a.Status == bot.Firing {
			source2 = a.GeneratorURL
		}
	}
	if source2 == "" && len(g.Alerts) > 0 {
		source2 = g.Alerts[0].GeneratorURL
	}
	am := g.ExternalURL
	if !validURL(am) {
		am = opt.AlertmanagerURL
	}
	links = appendLink(links, "Runbook", runbook)
	links = appendLink(links, "Source", source2)
	links = appendLink(links, "Alertmanager", am)
	m.Components = buttonRows(links, actions(v, opt))
	enforce(m)
	return m
}

// RenderDigest renders a storm digest: counts by priority, the groups it
// lists, and a pointer to its thread for the rest.
func RenderDigest(v bot.View, opt RenderOptions) *Message {
	st := v.Stats
	total := st.Groups
	if total < len(v.Groups) {
		total = len(v.Groups)
	}
	firingAny, best := false, bot.P3
	for _, pr := range bot.Priorities {
		if st.Firing[pr] > 0 {
			if !firingAny {
				best = pr
			}
			firingAny = true
		}
	}
	if st.Groups == 0 { // no stats: judge by the listed groups
		for _, g := range v.Groups {
			if g.Status != bot.Resolved && (!firingAny || g.Priority < best) {
				firingAny, best = true, g.Priority
			}
		}
	}
	e := &discordgo.MessageEmbed{
		Type:   discordgo.EmbedTypeRich,
		Title:  fmt.Sprintf("🌩️ Alert storm — %d group%s", total, plural(total)),
		Color:  ColorResolved,
		Footer: &discordgo.MessageEmbedFooter{Text: "Klaxon · storm digest"},
	}
	if firingAny {
		e.Color = color(best, false)
	}
	if !st.Since.IsZero() {
		e.Timestamp = st.Since.UTC().Format(time.RFC3339)
	}
	for _, pr := range bot.Priorities {
		if n := st.Firing[pr]; n > 0 {
			e.Fields = append(e.Fields, &discordgo.MessageEmbedField{
				Name: fmt.Sprintf("%s %s firing", priorityEmoji(pr, false), pr), Value: fmt.Sprint(n), Inline: true})
		}
	}
	if st.Resolved > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "✅ Resolved", Value: fmt.Sprint(st.Resolved), Inline: true})
	}
	if !st.Since.IsZero() {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Since", Value: fmt.Sprintf("<t:%d:R>", st.Since.Unix()), Inline: true})
	}

	lines := make([]string, 0, len(v.Groups))
	for _, g := range v.Groups {
		lines = append(lines, groupLine(g))
	}
	more := func(n int) string {
		where := "in the thread"
		if v.Post.ThreadID != "" {
			where = "in <#" + v.Post.ThreadID + ">"
		}
		return fmt.Sprintf("… %d more %s", n, where)
	}
	shown := 0
	e.Description, shown = fillLines(lines, MaxDescription-60)
	if rest := total - shown; rest > 0 {
		e.Description += "\n" + more(rest)
	}
	e.Description = strings.TrimPrefix(e.Description, "\n")

	m := &Message{Embeds: []*discordgo.MessageEmbed{e}}
	firingGroups := 0
	for _, n := range st.Firing {
		firingGroups += n
	}
	setMentions(m, v.Post.Mentions, v.Post.MessageID == "", firingAny,
		fmt.Sprintf("**Alert storm**: %d alert group%s firing", firingGroups, plural(firingGroups)))
	m.Components = buttonRows(nil, actions(v, opt))
	enforce(m)
	return m
}

// RenderPage renders one overflow page of a digest, posted in its thread.
func RenderPage(v bot.View, opt RenderOptions) *Message {
	firingAny, best := false, bot.P3
	lines := make([]string, 0, len(v.Groups))
	for _, g := range v.Groups {
		lines = append(lines, groupLine(g))
		if g.Status != bot.Resolved && (!firingAny || g.Priority < best) {
			firingAny, best = true, g.Priority
		}
	}
	e := &discordgo.MessageEmbed{
		Type:   discordgo.EmbedTypeRich,
		Title:  fmt.Sprintf("Page %d", max(v.Post.Seq, 1)),
		Color:  ColorResolved,
		Footer: &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("Klaxon · storm digest page %d", max(v.Post.Seq, 1))},
	}
	if firingAny {
		e.Color = color(best, false)
	}
	text, n := fillLines(lines, MaxDescription-40)
	if n < len(lines) {
		// Overflow goes into fields, within the embed total.
		e.Fields = packLines("More", lines[n:], 0, func(h int) []string {
			if h == 0 {
				return nil
			}
			return []string{fmt.Sprintf("… and %d more", h)}
		}, MaxEmbedTotal-runeLen(text)-runeLen(e.Title)-runeLen(e.Footer.Text), MaxFields)
	}
	e.Description = text
	m := &Message{Embeds: []*discordgo.MessageEmbed{e}}
	setMentions(m, bot.Mentions{}, false, false, "")
	m.Components = buttonRows(nil, actions(v, opt))
	enforce(m)
	return m
}

// keyLabels are shown as fields when common to the group, in this order.
var keyLabels = []string{"severity", "service", "instance", "job", "namespace", "cluster", "env", "environment", "region", "team"}

// annotationText returns the group's summary (for the title) and longer
// description (for the embed body).
func annotationText(g *bot.Group) (summary, description string) {
	first := func(key string) string {
		if s := strings.TrimSpace(g.CommonAnnotations[key]); s != "" {
			return s
		}
		for _, a := range g.Alerts {
			if s := strings.TrimSpace(a.Annotations[key]); s != "" {
				return s
			}
		}
		return ""
	}
	summary = first("summary")
	description = first("description")
	if description == "" {
		description = first("message")
	}
	if summary == "" && description != "" && !strings.Contains(description, "\n") && runeLen(description) <= 120 {
		summary, description = description, ""
	}
	if description == summary {
		description = ""
	}
	return summary, description
}

// alertLines lists up to n alerts, firing first, one line each.
func alertLines(g *bot.Group, groupSummary string, n int) []string {
	alerts := slices.Clone(g.Alerts)
	sort.SliceStable(alerts, func(i, j int) bool {
		return alerts[i].Status == bot.Firing && alerts[j].Status != bot.Firing
	})
	var lines []string
	for _, a := range alerts {
		if len(lines) >= n {
			break
		}
		var keys []string
		for k := range a.Labels {
			if k == "alertname" || k == "priority" {
				continue
			}
			if _, common := g.CommonLabels[k]; common {
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for i, k := range keys {
			if i == 3 {
				parts = append(parts, "…")
				break
			}
			parts = append(parts, oneLine(k+"="+a.Labels[k], 60))
		}
		id := strings.Join(parts, " ")
		if id == "" {
			id = oneLine(a.Name(), 60)
		}
		line := codeSpan(id)
		if s := a.Summary(); s != "" && s != groupSummary {
			line += " — " + short(s, 100)
		}
		if a.Status == bot.Firing {
			line = "🔥 " + line
			if !a.StartsAt.IsZero() {
				line += fmt.Sprintf(" · <t:%d:R>", a.StartsAt.Unix())
			}
		} else {
			line = "✅ ~~" + line + "~~"
			if !a.EndsAt.IsZero() {
				line += fmt.Sprintf(" · resolved <t:%d:R>", a.EndsAt.Unix())
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// groupLine is one group of a digest or page.
func groupLine(g *bot.Group) string {
	// At most ~125 runes a line, so that a page of 40 groups fits one message.
	text := fmt.Sprintf("%s · %s", g.Priority, short(g.Title(), 40))
	if s := g.Summary(); s != "" {
		text += " — " + short(s, 50)
	}
	if g.Status == bot.Resolved {
		line := "✅ ~~" + text + "~~"
		if !g.ResolvedAt.IsZero() {
			line += fmt.Sprintf(" · <t:%d:R>", g.ResolvedAt.Unix())
		}
		return line
	}
	line := priorityEmoji(g.Priority, false) + " " + text
	if t := g.StartedAt(); !t.IsZero() {
		line += fmt.Sprintf(" · <t:%d:R>", t.Unix())
	}
	return line
}

// packLines puts whole lines into fields of at most MaxFieldValue runes,
// spending at most budget runes and maxFields fields. hidden counts lines
// already left out; tail(hidden) gives closing notes (e.g. "… and 3 more"),
// which are always kept.
func packLines(name string, lines []string, hidden int, tail func(int) []string, budget, maxFields int) []*discordgo.MessageEmbedField {
	if maxFields <= 0 || budget <= 0 {
		return nil
	}
	tailWorst := tail(hidden + len(lines))
	reserve := runeLen(strings.Join(tailWorst, "\n")) + len(tailWorst) + runeLen(name) + 16
	var fields []*discordgo.MessageEmbedField
	var cur []string
	curLen, used := 0, 0
	fieldName := func() string {
		if len(fields) == 0 {
			return name
		}
		return name + " (continued)"
	}
	flush := func() {
		if len(cur) > 0 {
			fields = append(fields, &discordgo.MessageEmbedField{Name: fieldName(), Value: strings.Join(cur, "\n")})
			cur, curLen = nil, 0
		}
	}
	n := 0
	for _, l := range lines {
		l = truncate(l, MaxFieldValue)
		ll := runeLen(l)
		sep := 0
		if len(cur) > 0 {
			sep = 1
		}
		if curLen+sep+ll > MaxFieldValue {
			if len(fields)+2 > maxFields { // keep a field for the tail
				break
			}
			flush()
			sep = 0
		}
		cost := sep + ll
		if len(cur) == 0 {
			cost += runeLen(fieldName())
		}
		if used+cost+reserve > budget {
			break
		}
		cur = append(cur, l)
		curLen += sep + ll
		used += cost
		n++
	}
	for _, t := range tail(hidden + len(lines) - n) {
		if curLen+1+runeLen(t) > MaxFieldValue || len(cur) == 0 && len(fields) > 0 && len(fields) >= maxFields {
			flush()
		}
		if len(cur) > 0 {
			curLen++
		}
		cur = append(cur, t)
		curLen += runeLen(t)
	}
	flush()
	if len(fields) > maxFields {
		fields = fields[:maxFields]
	}
	return fields
}

// fillLines joins as many whole lines as fit in limit runes.
func fillLines(lines []string, limit int) (string, int) {
	var b strings.Builder
	n, used := 0, 0
	for _, l := range lines {
		ll := runeLen(l)
		if n > 0 {
			ll++
		}
		if used+ll > limit {
			break
		}
		if n > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
		used += ll
		n++
	}
	return b.String(), n
}

// setMentions sets content and allowed_mentions. Only a creation that is
// still firing pings, and only the ids in mentions; parse is always empty so
// that @everyone, @here or mention text from alert data pings nobody. An
// edit keeps the mention line while firing (edits never ping) and clears it
// once resolved.
func setMentions(m *Message, mentions bot.Mentions, create, firing bool, headline string) {
	roles, users := cleanIDs(mentions.Roles), cleanIDs(mentions.Users)
	am := &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
	m.AllowedMentions = am
	if !firing || len(roles)+len(users) == 0 {
		return
	}
	var b strings.Builder
	for _, r := range roles {
		b.WriteString("<@&" + r + "> ")
	}
	for _, u := range users {
		b.WriteString("<@" + u + "> ")
	}
	m.Content = truncate(b.String()+headline, MaxContent)
	if create {
		am.Roles, am.Users = roles, users
	}
}

// cleanIDs keeps distinct snowflakes, at most Discord's 100.
func cleanIDs(ids []string) []string {
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if isSnowflake(id) && !slices.Contains(out, id) && len(out) < maxMentionIDs {
			out = append(out, id)
		}
	}
	return out
}

func actions(v bot.View, opt RenderOptions) []discordgo.Button {
	if opt.Actions == nil {
		return nil
	}
	return opt.Actions(v)
}

func appendLink(bs []discordgo.Button, label, u string) []discordgo.Button {
	u = strings.TrimSpace(u)
	if !validURL(u) {
		return bs
	}
	for _, b := range bs {
		if b.URL == u {
			return bs
		}
	}
	return append(bs, discordgo.Button{Label: label, Style: discordgo.LinkButton, URL: u})
}

// validURL reports whether u can be a link button: absolute http(s), at most
// MaxURL long.
func validURL(u string) bool {
	if u == "" || len(u) > MaxURL {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// buttonRows lays out link buttons then interactive ones, at most
// MaxRowButtons a row and MaxRows rows; invalid buttons are dropped.
func buttonRows(links, acts []discordgo.Button) []discordgo.MessageComponent {
	rows := []discordgo.MessageComponent{}
	add := func(bs []discordgo.Button) {
		var row []discordgo.MessageComponent
		for _, b := range bs {
			if len(rows) >= MaxRows {
				return
			}
			b.Label = oneLine(b.Label, MaxButtonLabel)
			if b.URL != "" || b.Style == discordgo.LinkButton {
				if !validURL(b.URL) {
					continue
				}
				b.Style, b.CustomID = discordgo.LinkButton, ""
			} else if n := utf8.RuneCountInString(b.CustomID); n < 1 || n > MaxCustomID {
				continue
			}
			if b.Label == "" && b.Emoji == nil {
				continue
			}
			row = append(row, b)
			if len(row) == MaxRowButtons {
				rows = append(rows, discordgo.ActionsRow{Components: row})
				row = nil
			}
		}
		if len(row) > 0 && len(rows) < MaxRows {
			rows = append(rows, discordgo.ActionsRow{Components: row})
		}
	}
	add(links)
	add(acts)
	return rows
}

// enforce makes m fit every Discord limit, whatever went before.
// It renders the core's references into Discord markup first
// (markupMessage), so every message kind passes through that one place.
func enforce(m *Message) {
	markupMessage(m)
	m.Content = truncate(m.Content, MaxContent)
	if len(m.Embeds) > MaxEmbeds {
		m.Embeds = m.Embeds[:MaxEmbeds]
	}
	for _, e := range m.Embeds {
		e.Title = truncate(e.Title, MaxTitle)
		e.Description = truncate(e.Description, MaxDescription)
		if len(e.Fields) > MaxFields {
			e.Fields = e.Fields[:MaxFields]
		}
		for _, f := range e.Fields {
			f.Name = truncate(f.Name, MaxFieldName)
			f.Value = truncate(f.Value, MaxFieldValue)
			if strings.TrimSpace(f.Name) == "" {
				f.Name = "\u200b"
			}
			if strings.TrimSpace(f.Value) == "" {
				f.Value = "\u200b"
			}
		}
		if e.Footer != nil {
			e.Footer.Text = truncate(e.Footer.Text, MaxFooter)
		}
		if e.Author != nil {
			e.Author.Name = truncate(e.Author.Name, MaxAuthor)
		}
	}
	for total := messageEmbedLen(m); total > MaxEmbedTotal; total = messageEmbedLen(m) {
		e := m.Embeds[len(m.Embeds)-1]
		over := total - MaxEmbedTotal
		switch {
		case runeLen(e.Description) > over+40:
			e.Description = truncate(e.Description, runeLen(e.Description)-over)
		case e.Description != "":
			e.Description = ""
		case len(e.Fields) > 0:
			e.Fields = e.Fields[:len(e.Fields)-1]
		case len(m.Embeds) > 1:
			m.Embeds = m.Embeds[:len(m.Embeds)-1]
		default:
			e.Title = truncate(e.Title, max(runeLen(e.Title)-over, 1))
			if e.Footer != nil && messageEmbedLen(m) > MaxEmbedTotal {
				e.Footer = nil
			}
		}
	}
}

// Validate reports the first Discord limit m breaks, or nil.
func (m *Message) Validate() error {
	if n := runeLen(m.Content); n > MaxContent {
		return fmt.Errorf("content has %d runes, more than %d", n, MaxContent)
	}
	if len(m.Embeds) > MaxEmbeds {
		return fmt.Errorf("%d embeds, more than %d", len(m.Embeds), MaxEmbeds)
	}
	for i, e := range m.Embeds {
		switch {
		case runeLen(e.Title) > MaxTitle:
			return fmt.Errorf("embed %d: title too long (%d)", i, runeLen(e.Title))
		case runeLen(e.Description) > MaxDescription:
			return fmt.Errorf("embed %d: description too long (%d)", i, runeLen(e.Description))
		case len(e.Fields) > MaxFields:
			return fmt.Errorf("embed %d: %d fields", i, len(e.Fields))
		case e.Footer != nil && runeLen(e.Footer.Text) > MaxFooter:
			return fmt.Errorf("embed %d: footer too long", i)
		case e.Author != nil && runeLen(e.Author.Name) > MaxAuthor:
			return fmt.Errorf("embed %d: author too long", i)
		}
		for j, f := range e.Fields {
			if n := runeLen(f.Name); n == 0 || n > MaxFieldName {
				return fmt.Errorf("embed %d field %d: name has %d runes", i, j, n)
			}
			if n := runeLen(f.Value); n == 0 || n > MaxFieldValue {
				return fmt.Errorf("embed %d field %d: value has %d runes", i, j, n)
			}
		}
	}
	if n := messageEmbedLen(m); n > MaxEmbedTotal {
		return fmt.Errorf("embeds total %d runes, more than %d", n, MaxEmbedTotal)
	}
	if len(m.Components) > MaxRows {
		return fmt.Errorf("%d component rows, more than %d", len(m.Components), MaxRows)
	}
	for i, c := range m.Components {
		row, ok := c.(discordgo.ActionsRow)
		if !ok {
			return fmt.Errorf("component %d is not an action row", i)
		}
		if len(row.Components) == 0 || len(row.Components) > MaxRowButtons {
			return fmt.Errorf("row %d has %d components", i, len(row.Components))
		}
		for _, bc := range row.Components {
			b, ok := bc.(discordgo.Button)
			if !ok {
				continue
			}
			if runeLen(b.Label) > MaxButtonLabel {
				return fmt.Errorf("row %d: button label too long", i)
			}
			if b.Style == discordgo.LinkButton {
				if !validURL(b.URL) {
					return fmt.Errorf("row %d: bad link %q", i, b.URL)
				}
			} else if n := runeLen(b.CustomID); n < 1 || n > MaxCustomID {
				return fmt.Errorf("row %d: custom_id has %d runes", i, n)
			}
		}
	}
	if am := m.AllowedMentions; am == nil || am.Parse == nil || len(am.Parse) != 0 {
		return fmt.Errorf("allowed_mentions must be set with an empty parse list")
	}
	return nil
}

func embedLen(e *discordgo.MessageEmbed) int {
	n := runeLen(e.Title) + runeLen(e.Description)
	for _, f := range e.Fields {
		n += runeLen(f.Name) + runeLen(f.Value)
	}
	if e.Footer != nil {
		n += runeLen(e.Footer.Text)
	}
	if e.Author != nil {
		n += runeLen(e.Author.Name)
	}
	return n
}

func messageEmbedLen(m *Message) int {
	n := 0
	for _, e := range m.Embeds {
		n += embedLen(e)
	}
	return n
}

func color(p bot.Priority, resolved bool) int {
	if resolved {
		return ColorResolved
	}
	switch p {
	case bot.P0:
		return ColorP0
	case bot.P1:
		return ColorP1
	case bot.P2:
		return ColorP2
	}
	return ColorP3
}

func priorityEmoji(p bot.Priority, resolved bool) string {
	if resolved {
		return "✅"
	}
	switch p {
	case bot.P0:
		return "🔴"
	case bot.P1:
		return "🟠"
	case bot.P2:
		return "🟡"
	}
	return "🔵"
}

// humanDuration is a short duration: "45s", "12m", "1h 5m", "2d 3h".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	default:
		days, h := int(d.Hours())/24, int(d.Hours())%24
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd %dh", days, h)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// truncate shortens s to at most n runes, ending in "…" when it cut.
func truncate(s string, n int) string { return text.Truncate(s, n) }

// singleLine turns line breaks and tabs into spaces.
func singleLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', '\t', '\v', '\f', 0x85, 0x2028, 0x2029:
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`,
	">", `\>`, "<", `\<`, "#", `\#`, "[", `\[`, "]", `\]`,
)

// oneLine is s on one line, at most n runes; it looks at no more of s than
// it needs.
func oneLine(s string, n int) string {
	return truncate(singleLine(truncate(s, 2*n+8)), n)
}

// short is untrusted text on one line, markdown escaped, at most n runes.
func short(s string, n int) string {
	return truncate(escapeMarkdown(oneLine(s, 2*n+8)), n)
}

// escapeMarkdown makes untrusted text render literally.
func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// codeSpan puts untrusted text in an inline code span; backticks, which
// cannot be escaped there, become a look-alike.
func codeSpan(s string) string {
	s = strings.ReplaceAll(singleLine(s), "`", "ˋ")
	if s == "" {
		return "—"
	}
	return "`" + s + "`"
}

// contentText is untrusted text for the message content: escaped, on one
// line, mentions defused with a zero-width space (allowed_mentions would
// stop them pinging anyway).
func contentText(s string) string {
	return truncate(strings.ReplaceAll(short(s, 200), "@", "@\u200b"), 200)
}

// closeFences truncates s to n runes and closes a code block the cut left open.
func closeFences(s string, n int) string {
	t := truncate(s, n)
	if strings.Count(t, "```")%2 == 1 {
		t = truncate(s, n-4)
		if strings.Count(t, "```")%2 == 1 {
			t += "\n```"
		}
	}
	return t
}

// response says who owns the group: acknowledged, silenced, overdue, or waiting.
func response(g *bot.Group, now time.Time) string {
	var parts []string
	switch {
	case g.ResolvedBy != nil:
		parts = append(parts, fmt.Sprintf("✅ Resolved by <@%s> via %s <t:%d:R>", g.ResolvedBy.UserID, g.ResolvedBy.Via, g.ResolvedBy.At.Unix()))
	case g.Ack != nil:
		who := "<@" + g.Ack.UserID + ">"
		if g.Ack.UserID == "" {
			who = oneLine(g.Ack.Name, 80)
		}
		parts = append(parts, fmt.Sprintf("👀 Acknowledged by %s via %s <t:%d:R>", who, g.Ack.Via, g.Ack.At.Unix()))
	case g.Status == bot.Resolved:
		parts = append(parts, "—")
	case g.Overdue:
		parts = append(parts, "⏰ **Acknowledgement overdue**")
	default:
		parts = append(parts, "Unacknowledged")
	}
	if g.Silence != nil && g.Silence.Until.After(now) {
		parts = append(parts, fmt.Sprintf("🔕 Silenced until <t:%d:f> by <@%s>", g.Silence.Until.Unix(), g.Silence.CreatedBy.UserID))
	}
	if g.Escalated > 1 && g.Ack == nil && g.Status == bot.Firing {
		parts = append(parts, fmt.Sprintf("📣 Escalation step %d", g.Escalated))
	}
	return strings.Join(parts, "\n")
}
