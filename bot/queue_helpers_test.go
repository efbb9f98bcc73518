package bot_test

import (
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// dueMessages returns the queued plain messages due at now, most urgent first.
func dueMessages(tx bot.Tx, now time.Time, limit int) ([]bot.Outgoing, error) {
	items, err := tx.DueItems(now, limit)
	var out []bot.Outgoing
	for _, it := range items {
		if it.Kind == bot.ItemMessage {
			out = append(out, *it.Message)
		}
	}
	return out, err
}
