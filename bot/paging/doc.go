// Package paging is the paging feature: escalation policies run step by
// step until someone acknowledges, pages to people by mention, DM, phone or
// e-mail (each a recorded outcome, also when it cannot go out),
// acknowledge/resolve/escalate-now and manual pages, on-call schedules with
// overrides and handoff announcements, and Alertmanager silences of alert
// groups.
//
// Its services hold a store of its own Tx (the core's operations and its
// own). Service is the engine's Job, a GroupHook (paging starts, restarts
// and stops with the group), and the SentHook and PrepareHook of page
// messages; PhoneJob, MailJob and HandoffJob are Jobs.
package paging
