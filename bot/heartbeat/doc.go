// Package heartbeat watches the watchers: scheduled jobs that report in
// (heartbeat monitors: a period or a cron schedule in a time zone, a grace
// time, start and fail signals, run durations) and Alertmanager's
// always-firing Watchdog, Klaxon's dead-man's switch on the monitoring
// pipeline.
//
// A monitor that misses its deadline, reports a failure or runs much longer
// than usual becomes an alert group through the same path as an
// Alertmanager webhook (bot.IngestTx, in the transaction that records the
// state change), so the card, paging (P0 reaches the phone), incident rules
// and the resolved edit all work unchanged; the next good ping resolves it.
// The Watchdog is recognised by configurable matchers in the webhook
// handler, never shown as a card, and its absence for the configured
// timeout raises "monitoring pipeline silent".
//
// Time is an input: the service and the engine job take now from their
// caller; state lives in the database (the Tx interface below), so a
// restart loses nothing and, counting Klaxon's start like a ping, raises no
// false alarm.
package heartbeat
