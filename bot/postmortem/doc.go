// Package postmortem is the post-mortem feature: a document per incident
// whose narrative sections are drafted (from the template, or by a Drafter
// such as bot/llm, with secrets and people scrubbed first), edited in
// revisions and published to a forum channel, and whose facts are rendered
// from the incident record every time; action items with owners and due
// dates; and the due policy that reminds people of both.
//
// Its Service holds a store of its own Tx (the core's, plus the incident's
// and its own operations). PublishJob is the engine's Sender for
// bot.ItemForum; Service is a Job and ReminderSent a SentHook.
package postmortem
