// Package bot is Klaxon's core: the domain types (alert groups, priorities,
// posts, incidents, schedules, post-mortems), the ports the outside world is
// reached through (Store and Tx, Discord, Messenger, Phone, Mailer, Clock),
// and the engine — one loop that runs the jobs (paging, incidents,
// reminders, reports, backups) and one dispatcher that drains the outbound
// queue to Discord under a single retry policy.
//
// bot imports no Discord, SQLite or HTTP package: adapters live in
// bot/discord, store, bot/phone, bot/mail and handlers, and depend on bot.
package bot
