package bot

// Tone is what a message's accent means; bot/discord maps it to a colour
// (the core never picks one). The zero Tone is no accent. Tones are stored
// as numbers with queued messages: add new ones at the end, never reorder.
type Tone int

const (
	ToneNone     Tone = iota
	ToneP0            // a P0 alert or incident: critical outage
	ToneP1            // P1: major issue
	ToneP2            // P2: minor issue
	ToneP3            // P3: warning
	ToneResolved      // over and fine: resolved, met, handled
	ToneAlarm         // something failed or ran out (a backup, an error budget)
	ToneWarning       // running low, not out yet
	ToneTriage        // waiting for someone to look at it (a user report)
	ToneMuted         // set aside (a dismissed report)
	ToneInfo          // a report or a digest: information, no action asked
	ToneDocument      // a document (a post-mortem)
)

// PriorityTone is the tone of something open at priority p.
func PriorityTone(p Priority) Tone {
	switch p {
	case P0:
		return ToneP0
	case P1:
		return ToneP1
	case P2:
		return ToneP2
	}
	return ToneP3
}
