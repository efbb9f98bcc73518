// Package calendar is the SRE calendar: what happens on a schedule rather
// than on an alert. Reminders (cron schedules in a time zone, configured or
// made with /reminder), the weekly and monthly SLA reports, SLOs and their
// error budgets (from the alert and incident record, or Prometheus) with
// budget warnings, and backups with their verification. Each is an engine
// Job; a run is recorded once, so a restart neither repeats nor loses one.
//
// Its services hold a store of its own Tx: the core's operations, the
// incidents' (reports and budgets read incidents, their measures and
// pages) and its own.
package calendar
