package postmortem

import (
	"context"
	"github.com/marola-rp/klaxon/bot"
)

// Read operations of the post-mortem service for the handlers; each runs in
// its own read transaction.

// Incident returns incident id; ENotFound when there is none.
func (s *Service) Incident(ctx context.Context, id int64) (*bot.Incident, error) {
	var inc *bot.Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { inc, err = tx.Incident(id); return err })
	return inc, err
}

// IncidentByThread returns the incident whose thread is channelID;
// ENotFound when there is none.
func (s *Service) IncidentByThread(ctx context.Context, channelID string) (*bot.Incident, error) {
	var inc *bot.Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { inc, err = tx.IncidentByThread(channelID); return err })
	return inc, err
}

// OfIncident returns the post-mortem of incident incidentID; ENotFound
// when it has none.
func (s *Service) OfIncident(ctx context.Context, incidentID int64) (*Postmortem, error) {
	var pm *Postmortem
	err := s.Store.View(ctx, func(tx Tx) (err error) { pm, err = tx.PostmortemOfIncident(incidentID); return err })
	return pm, err
}

// Get returns post-mortem id; ENotFound when there is none.
func (s *Service) Get(ctx context.Context, id int64) (*Postmortem, error) {
	var pm *Postmortem
	err := s.Store.View(ctx, func(tx Tx) (err error) { pm, err = tx.Postmortem(id); return err })
	return pm, err
}

// Revisions returns the revisions of post-mortem id.
func (s *Service) Revisions(ctx context.Context, id int64) ([]Revision, error) {
	var revs []Revision
	err := s.Store.View(ctx, func(tx Tx) (err error) { revs, err = tx.Revisions(id); return err })
	return revs, err
}

// ActionItems returns the action items of incident incidentID, only the
// open ones when open.
func (s *Service) ActionItems(ctx context.Context, incidentID int64, open bool) ([]*ActionItem, error) {
	var items []*ActionItem
	err := s.Store.View(ctx, func(tx Tx) (err error) { items, err = tx.ActionItems(incidentID, open); return err })
	return items, err
}

// Incidents returns the most recent incidents (open and resolved), newest
// first, for choosing one (autocomplete).
func (s *Service) Incidents(ctx context.Context, limit int) ([]*bot.Incident, error) {
	var incs []*bot.Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { incs, err = tx.Incidents(false, limit); return err })
	return incs, err
}

// OpenActionItems returns the open action items of the most recent
// incidents (at most incidents of them), for choosing one (autocomplete).
func (s *Service) OpenActionItems(ctx context.Context, incidents int) ([]*ActionItem, error) {
	var items []*ActionItem
	err := s.Store.View(ctx, func(tx Tx) error {
		incs, err := tx.Incidents(false, incidents)
		if err != nil {
			return err
		}
		for _, inc := range incs {
			open, err := tx.ActionItems(inc.ID, true)
			if err != nil {
				return err
			}
			items = append(items, open...)
		}
		return nil
	})
	return items, err
}
