package paging

import (
	"context"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// PageManually records n (a manual page: one firing alert) as an alert
// group, as a webhook would, and pages t for it now. It returns the group.
func (p *Service) PageManually(ctx context.Context, n bot.Notification, t Target, a bot.Actor, now time.Time) (int64, error) {
	res, err := bot.Ingest(ctx, p.Store, p.Policy, n, now)
	if err != nil {
		return 0, err
	}
	if err := p.PageTarget(ctx, res.GroupID, t, a, now); err != nil {
		return 0, err
	}
	return res.GroupID, nil
}
