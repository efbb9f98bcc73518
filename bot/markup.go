package bot

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The Discord markup the core still writes into text lives in this file
// and nowhere else in bot (TestCoreWritesNoDiscordMarkup fails on any other
// file, and on any file of the feature packages). The core asks for a
// reference to a user, a role, a channel or a moment with these functions;
// it never spells "<@", "<#" or "<t:" itself.
//
// Why a seam and not yet a rich-text type: much of this text is stored —
// timeline events, card notes, post-mortem documents — and read back or
// exported later, so it is a string in the database today. The next step
// (issue #13) is a bot.Text of segments (plain, UserRef, RoleRef,
// ChannelRef, Time) that bot/discord renders; these functions are where
// those segments will be made, so the move touches this file, the message
// builders and the renderer, not every sentence.

// TimeStyle is how a referenced moment is shown to the reader.
type TimeStyle byte

const (
	TimeRelative  TimeStyle = 'R' // "in 5 minutes", "2 hours ago"; Discord keeps it current
	TimeShortTime TimeStyle = 't' // "09:30" in the reader's zone
	TimeFull      TimeStyle = 'f' // "14 March 2025 09:30" in the reader's zone
)

// UserRef refers to a user by id; only users listed in a message's
// Mentions are pinged.
func UserRef(id string) string { return "<@" + id + ">" }

// RoleRef refers to a role by id.
func RoleRef(id string) string { return "<@&" + id + ">" }

// ChannelRef refers to a channel or thread by id.
func ChannelRef(id string) string { return "<#" + id + ">" }

// TimeRef shows t in the reader's own time zone, in style s.
func TimeRef(t time.Time, s TimeStyle) string { return fmt.Sprintf("<t:%d:%c>", t.Unix(), s) }

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

// userRefPattern finds user references in text (also the older "<@!id>"
// form).
var userRefPattern = regexp.MustCompile(`<@!?(\d{1,20})>`)

// ReplaceUserRefs replaces every user reference in s (also the older
// "<@!id>" form) with what f returns for the user's id.
func ReplaceUserRefs(s string, f func(userID string) string) string {
	return userRefPattern.ReplaceAllStringFunc(s, func(m string) string {
		return f(userRefPattern.FindStringSubmatch(m)[1])
	})
}
