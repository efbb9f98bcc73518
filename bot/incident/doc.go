// Package incident is the incident feature: declaring incidents (by
// command, from an alert card, automatically for urgent alerts, or from a
// player's /report after triage), running them in a Discord thread with a
// pinned summary, roles, a timeline and status updates, reminders and
// archiving, the response measures reports read (MTTA, MTTM, MTTR), and
// runbook checklists ticked in the thread.
//
// Its Service holds a store of its own Tx (the core's operations and its
// own). It is the engine's Job and Sender for bot.ItemIncident, a GroupHook
// (alert fired/resolved on the timeline, auto-open) and the SentHook of role
// DMs and triage messages.
package incident
