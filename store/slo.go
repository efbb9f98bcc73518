package store

import (
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
)

// GroupsBetween implements calendar.SLOTx.
func (t *Tx) GroupsBetween(from, to time.Time) ([]*bot.Group, error) {
	return t.scanGroups("groups between", "SELECT "+groupCols+` FROM alert_groups
		WHERE created_at < ? AND (resolved_at = 0 OR resolved_at >= ?) ORDER BY created_at, id`, ts(to), ts(from))
}

// SentPages implements calendar.SLOTx.
func (t *Tx) SentPages(from, to time.Time) ([]paging.PageRecord, error) {
	return t.scanPages("sent pages", "SELECT "+pageCols+` FROM pages
		WHERE status = 'sent' AND sent_at >= ? AND sent_at < ? ORDER BY sent_at, id`, ts(from), ts(to))
}

// RecordSLOWarning implements calendar.SLOTx.
func (t *Tx) RecordSLOWarning(service, month string, threshold int, remaining float64, at time.Time) (bool, error) {
	res, err := t.exec("record slo warning", `INSERT INTO slo_warnings (service, month, threshold, remaining, sent_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, strings.ToLower(service), month, threshold, remaining, ts(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, t.dbErrorOrNil("record slo warning", err)
}
