// Package bot is Klaxon's core: the domain types the features share (alert
// groups, priorities, posts, messages, incidents and their timelines, SLO
// objectives), the ports the outside world is reached through (Discord,
// Messenger, Threads, Phone, Mailer, Silencer, Clock), the core store (Store,
// Tx, and TxStore for the features' own transactions), alert ingest, and the
// engine — one loop that runs the features' jobs and one dispatcher that
// drains the outbound queue to Discord under a single retry policy.
//
// The features live in packages of their own (bot/paging, bot/incident,
// bot/postmortem, bot/calendar), each with its Tx and services, and plug
// into the engine as Jobs, Senders and hooks; bot imports none of them.
// bot imports no Discord, SQLite or HTTP package either: adapters live in
// bot/discord, store, bot/phone, bot/mail and handlers, and depend on bot.
package bot
