// Package customid names the custom_id prefixes of Klaxon's buttons, select
// menus and modal forms: the code that puts a control on a message (the core,
// bot/discord's renderer options, handlers) and the route that answers it
// (handlers) use these constants, never string literals. A custom_id is a
// prefix, then its arguments after ':' ("ack:42", "incsnz:7:30m"); the
// router picks the route by the prefix.
package customid

import (
	"fmt"
	"strings"
)

// Prefixes of buttons and select menus.
const (
	AlertAck            = "ack"   // a card's or a page's Acknowledge
	AlertUnack          = "unack" // hand an acknowledged alert back
	AlertResolve        = "resolve"
	AlertEscalate       = "esc"
	AlertSilenceMenu    = "sil"   // opens the durations
	AlertSilenceFor     = "sild"  // silence for a listed duration
	AlertSilenceCustom  = "silc"  // opens the silence form
	AlertUnsilence      = "unsil" // expire the silence
	IncidentDeclare     = "incdecl"
	IncidentCommander   = "inccmd" // "I'll be commander"
	IncidentUpdate      = "incupd" // opens the status update form
	IncidentSnooze      = "incsnz"
	IncidentResolve     = "incres"
	IncidentInvestigate = "incinv" // back to investigating
	ReportDeclare       = "rptdecl"
	ReportLinkMenu      = "rptlink" // opens the list of incidents
	ReportLink          = "rptsel"  // the list of incidents
	ReportDismiss       = "rptdis"
	Runbook             = "rb"
	RunbookRun          = "rbrun"
	RunbookStep         = "rbstep"
	PostmortemEdit      = "pmedit" // also the prefix of the edit form
	PostmortemExport    = "pmexport"
	PostmortemPublish   = "pmpublish"
)

// Prefixes of modal forms.
const (
	AlertSilenceForm   = "silm"
	IncidentUpdateForm = "incupdm"
	PostmortemEditForm = PostmortemEdit
)

// Components returns every button and select menu prefix.
func Components() []string {
	return []string{AlertAck, AlertUnack, AlertResolve, AlertEscalate, AlertSilenceMenu, AlertSilenceFor, AlertSilenceCustom,
		AlertUnsilence, IncidentDeclare, IncidentCommander, IncidentUpdate, IncidentSnooze, IncidentResolve, IncidentInvestigate,
		ReportDeclare, ReportLinkMenu, ReportLink, ReportDismiss, Runbook, RunbookRun, RunbookStep,
		PostmortemEdit, PostmortemExport, PostmortemPublish}
}

// Modals returns every modal form prefix.
func Modals() []string {
	return []string{AlertSilenceForm, IncidentUpdateForm, PostmortemEditForm}
}

// Make builds a custom_id: the prefix, then each argument after a ':'
// (Make(AlertAck, 42) is "ack:42").
func Make(prefix string, args ...any) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, a := range args {
		b.WriteByte(':')
		fmt.Fprint(&b, a)
	}
	return b.String()
}

// Prefix is the prefix of a custom_id ("ack" of "ack:42").
func Prefix(id string) string {
	p, _, _ := strings.Cut(id, ":")
	return p
}
