package paging

import (
	"context"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Overrides is the on-call override service: it validates, stores, lists
// and removes overrides, each call in its own transaction.
type Overrides struct {
	Store bot.TxStore[Tx]
}

// CreateOverride validates ov and stores it, setting ov.ID.
func (s *Overrides) CreateOverride(ctx context.Context, ov *Override) error {
	if err := ov.Validate(); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx Tx) error { return tx.AddOverride(ov) })
}

// Overrides lists the overrides of schedule that have not ended by from,
// current and upcoming.
func (s *Overrides) Overrides(ctx context.Context, schedule string, from time.Time) ([]Override, error) {
	var ovs []Override
	err := s.Store.View(ctx, func(tx Tx) (err error) { ovs, err = tx.Overrides(schedule, from, time.Time{}); return err })
	return ovs, err
}

// RemoveOverride removes override id; ENotFound when there is none.
func (s *Overrides) RemoveOverride(ctx context.Context, id int64) error {
	return s.Store.Update(ctx, func(tx Tx) error { return tx.RemoveOverride(id) })
}
