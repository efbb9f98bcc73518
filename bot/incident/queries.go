package incident

import (
	"context"

	"github.com/marola-rp/klaxon/bot"
)

// Read operations of the incident service for the handlers (lookups,
// lists, autocomplete); each runs in its own read transaction.

// ByThread returns the incident whose thread is channelID; ENotFound when
// there is none.
func (s *Service) ByThread(ctx context.Context, channelID string) (*bot.Incident, error) {
	var inc *bot.Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { inc, err = tx.IncidentByThread(channelID); return err })
	return inc, err
}

// OfGroup returns the incident alert group groupID belongs to; ENotFound
// when there is none.
func (s *Service) OfGroup(ctx context.Context, groupID int64) (*bot.Incident, error) {
	var inc *bot.Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { inc, err = tx.IncidentOfGroup(groupID); return err })
	return inc, err
}

// List returns at most limit incidents, only the open ones when open.
func (s *Service) List(ctx context.Context, open bool, limit int) ([]*bot.Incident, error) {
	var incs []*bot.Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { incs, err = tx.Incidents(open, limit); return err })
	return incs, err
}

// Detail is what showing an incident needs besides the incident
// (its open action items are the post-mortem feature's to read).
type Detail struct {
	Groups []*bot.Group
	State  *State
}

// Detail reads inc's alert groups and state.
func (s *Service) Detail(ctx context.Context, inc *bot.Incident) (Detail, error) {
	var d Detail
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		for _, id := range inc.GroupIDs {
			g, err := tx.Group(id)
			if err != nil {
				return err
			}
			d.Groups = append(d.Groups, g)
		}
		d.State, err = tx.IncidentState(inc.ID)
		return err
	})
	return d, err
}

// OpenGroupsWithoutIncident returns up to limit open alert groups that are
// not part of an incident (candidates to declare one from).
func (s *Service) OpenGroupsWithoutIncident(ctx context.Context, limit int) ([]*bot.Group, error) {
	var gs []*bot.Group
	err := s.Store.View(ctx, func(tx Tx) error {
		open, err := tx.OpenGroups(limit)
		for _, g := range open {
			if _, err := tx.IncidentOfGroup(g.ID); bot.ErrorCode(err) == bot.ENotFound {
				gs = append(gs, g)
			}
		}
		return err
	})
	return gs, err
}

// ThreadIncident returns the incident whose thread is channelID with its
// alert groups (groups gone from the store are left out); nil, nil, nil
// when the channel is no incident's thread.
func (s *Service) ThreadIncident(ctx context.Context, channelID string) (*bot.Incident, []*bot.Group, error) {
	return threadIncident(ctx, s.Store, channelID)
}

func threadIncident(ctx context.Context, store bot.TxStore[Tx], channelID string) (*bot.Incident, []*bot.Group, error) {
	var inc *bot.Incident
	var groups []*bot.Group
	err := store.View(ctx, func(tx Tx) (err error) {
		if inc, err = tx.IncidentByThread(channelID); err != nil {
			return err
		}
		for _, id := range inc.GroupIDs {
			g, err := tx.Group(id)
			if err == nil {
				groups = append(groups, g)
			} else if bot.ErrorCode(err) != bot.ENotFound {
				return err
			}
		}
		return nil
	})
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil, nil, nil
	}
	return inc, groups, err
}

// StatusChannel is the channel status updates are also posted to; "" for none.
func (s *Service) StatusChannel() string { return s.policy().StatusChannelID }

// RoleNames are the roles people can be assigned, commander first.
func (s *Service) RoleNames() []string { return s.policy().RoleNames() }
