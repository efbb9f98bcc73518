package bot

import (
	"context"
	"time"
)

// PageManually records n (a manual page: one firing alert) as an alert
// group, as a webhook would, and pages t for it now. It returns the group.
func (p *Paging) PageManually(ctx context.Context, n Notification, t Target, a Actor, now time.Time) (int64, error) {
	res, err := Ingest(ctx, p.Store, p.Policy, n, now)
	if err != nil {
		return 0, err
	}
	if err := p.PageTarget(ctx, res.GroupID, t, a, now); err != nil {
		return 0, err
	}
	return res.GroupID, nil
}
