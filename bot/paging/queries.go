package paging

import (
	"context"

	"github.com/marola-rp/klaxon/bot"
)

// Read operations on alert groups for the handlers; each runs in its own
// read transaction.

// Group returns alert group id; ENotFound when there is none.
func (p *Service) Group(ctx context.Context, id int64) (*bot.Group, error) {
	var g *bot.Group
	err := p.Store.View(ctx, func(tx Tx) (err error) { g, err = tx.Group(id); return err })
	return g, err
}

// OpenGroups returns at most limit open alert groups.
func (p *Service) OpenGroups(ctx context.Context, limit int) ([]*bot.Group, error) {
	var gs []*bot.Group
	err := p.Store.View(ctx, func(tx Tx) (err error) { gs, err = tx.OpenGroups(limit); return err })
	return gs, err
}
