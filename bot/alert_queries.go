package bot

import "context"

// Read operations on alert groups for the handlers; each runs in its own
// read transaction.

// Group returns alert group id; ENotFound when there is none.
func (p *Paging) Group(ctx context.Context, id int64) (*Group, error) {
	var g *Group
	err := p.Store.View(ctx, func(tx Tx) (err error) { g, err = tx.Group(id); return err })
	return g, err
}

// OpenGroups returns at most limit open alert groups.
func (p *Paging) OpenGroups(ctx context.Context, limit int) ([]*Group, error) {
	var gs []*Group
	err := p.Store.View(ctx, func(tx Tx) (err error) { gs, err = tx.OpenGroups(limit); return err })
	return gs, err
}
