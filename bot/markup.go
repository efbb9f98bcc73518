package bot

import (
	"strconv"
	"strings"
	"time"
)

// References in text: the core names a user, a role, a channel or a moment
// with UserRef, RoleRef, ChannelRef or TimeRef and never spells any chat
// platform's syntax (TestCoreWritesNoDiscordMarkup fails on Discord markup
// or a colour literal in any non-test file of bot and its feature packages,
// this one included).
//
// A reference is a token inside an ordinary string: RefOpen, a kind letter,
// ':', the value, RefClose — "\uE000u:123\uE001" is user 123,
// "\uE000r:5\uE001" role 5, "\uE000c:9\uE001" channel 9 and
// "\uE000t:1741944600:R\uE001" a moment with its TimeStyle. The delimiters
// are Unicode private-use characters, so nobody types a reference by
// accident, and the text stays a string: much of it is stored (timeline
// events, card notes, post-mortem documents) and read back or exported
// later, and a token survives the database, fmt verbs, concatenation and
// truncation of the text around it.
//
// Renderers turn tokens into their own form with RenderRefs: bot/discord
// into Discord markup ("<@123>", "<t:1741944600:R>") for every message,
// thread name and interaction reply it sends; PlainRefs into readable text
// for what leaves for elsewhere (e-mail through bot/mail, post-mortem
// drafting prompts). Text stored by versions before tokens holds Discord
// markup itself; bot/discord passes it through unchanged, so no migration
// is needed, and post-mortem redaction reads it through
// postmortem.Service.Legacy (bot/discord's LegacyRefs), since only the
// Discord side knows that syntax.

// RefOpen and RefClose delimit a reference token.
const (
	RefOpen  = '\uE000'
	RefClose = '\uE001'
)

// RefKind is what a reference refers to.
type RefKind byte

const (
	RefUser    RefKind = 'u'
	RefRole    RefKind = 'r'
	RefChannel RefKind = 'c'
	RefTime    RefKind = 't'
)

// Ref is one parsed reference: an ID for users, roles and channels; At and
// Style for moments.
type Ref struct {
	Kind  RefKind
	ID    string
	At    time.Time
	Style TimeStyle
}

// TimeStyle is how a referenced moment is shown to the reader.
type TimeStyle byte

const (
	TimeRelative  TimeStyle = 'R' // "in 5 minutes", "2 hours ago"; Discord keeps it current
	TimeShortTime TimeStyle = 't' // "09:30" in the reader's zone
	TimeFull      TimeStyle = 'f' // "14 March 2025 09:30" in the reader's zone
)

func token(kind RefKind, value string) string {
	return string(RefOpen) + string(kind) + ":" + value + string(RefClose)
}

// UserRef refers to a user by id; only users listed in a message's
// Mentions are pinged.
func UserRef(id string) string { return token(RefUser, id) }

// RoleRef refers to a role by id.
func RoleRef(id string) string { return token(RefRole, id) }

// ChannelRef refers to a channel or thread by id.
func ChannelRef(id string) string { return token(RefChannel, id) }

// TimeRef shows t in the reader's own time zone, in style s.
func TimeRef(t time.Time, s TimeStyle) string {
	return token(RefTime, strconv.FormatInt(t.Unix(), 10)+":"+string(rune(s)))
}

// ActorRef names who did something: a reference to the user, else their
// name, else the channel it came through (Via), else Klaxon itself — the
// one fallback, for anything done with nobody behind it.
func ActorRef(a Actor) string {
	switch {
	case a.UserID != "":
		return UserRef(a.UserID)
	case a.Name != "":
		return a.Name
	case a.Via != "":
		return a.Via
	}
	return "Klaxon"
}

// MentionPrefix is the roles then the users of m, each followed by a
// space, to put before a message's text ("" when there is nobody).
func MentionPrefix(m Mentions) string {
	var b strings.Builder
	for _, r := range m.Roles {
		b.WriteString(RoleRef(r) + " ")
	}
	for _, u := range m.Users {
		b.WriteString(UserRef(u) + " ")
	}
	return b.String()
}

// HasRefs reports whether s holds a reference token (or a piece of one).
func HasRefs(s string) bool {
	return strings.ContainsRune(s, RefOpen) || strings.ContainsRune(s, RefClose)
}

// RenderRefs replaces every reference token in s with what f returns for
// it. A token that does not parse (cut by truncation, or unknown) is
// dropped, delimiters included, so no private-use character is left.
func RenderRefs(s string, f func(Ref) string) string {
	if !HasRefs(s) {
		return s
	}
	var b strings.Builder
	plain := func(seg string) { b.WriteString(strings.ReplaceAll(seg, string(RefClose), "")) }
	for {
		i := strings.IndexRune(s, RefOpen)
		if i < 0 {
			break
		}
		plain(s[:i])
		rest := s[i+len(string(RefOpen)):]
		j := strings.IndexAny(rest, string(RefOpen)+string(RefClose))
		if j < 0 || !strings.HasPrefix(rest[j:], string(RefClose)) {
			// Unterminated: drop the opening and go on after it.
			s = rest
			continue
		}
		if r, ok := parseRef(rest[:j]); ok {
			b.WriteString(f(r))
		}
		s = rest[j+len(string(RefClose)):]
	}
	plain(s)
	return b.String()
}

func parseRef(body string) (Ref, bool) {
	if len(body) < 3 || body[1] != ':' {
		return Ref{}, false
	}
	r := Ref{Kind: RefKind(body[0])}
	v := body[2:]
	switch r.Kind {
	case RefUser, RefRole, RefChannel:
		r.ID = v
		return r, v != ""
	case RefTime:
		unix, style, ok := strings.Cut(v, ":")
		n, err := strconv.ParseInt(unix, 10, 64)
		if !ok || err != nil || len(style) != 1 {
			return Ref{}, false
		}
		r.At, r.Style = time.Unix(n, 0).UTC(), TimeStyle(style[0])
		return r, true
	}
	return Ref{}, false
}

// PlainRefs renders references as readable plain text, for what is read
// outside a chat client (e-mail, drafting prompts): "user 123", "role 5",
// "channel 9", and moments in UTC ("2025-03-14 09:30 UTC").
func PlainRefs(s string) string { return RenderRefs(s, PlainRef) }

// PlainRef is one reference as PlainRefs renders it.
func PlainRef(r Ref) string {
	switch r.Kind {
	case RefUser:
		return "user " + r.ID
	case RefRole:
		return "role " + r.ID
	case RefChannel:
		return "channel " + r.ID
	}
	return r.At.UTC().Format("2006-01-02 15:04 UTC")
}

// ReplaceUserRefs replaces every user reference in s with what f returns
// for the user's id; other references stay.
func ReplaceUserRefs(s string, f func(userID string) string) string {
	return RenderRefs(s, func(r Ref) string {
		if r.Kind == RefUser {
			return f(r.ID)
		}
		return token(r.Kind, refValue(r))
	})
}

func refValue(r Ref) string {
	if r.Kind == RefTime {
		return strconv.FormatInt(r.At.Unix(), 10) + ":" + string(rune(r.Style))
	}
	return r.ID
}
