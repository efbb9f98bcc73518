package bot

import "context"

// Read operations of the incident service for the handlers (lookups,
// lists, autocomplete); each runs in its own read transaction.

// ByThread returns the incident whose thread is channelID; ENotFound when
// there is none.
func (s *Incidents) ByThread(ctx context.Context, channelID string) (*Incident, error) {
	var inc *Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { inc, err = tx.IncidentByThread(channelID); return err })
	return inc, err
}

// OfGroup returns the incident alert group groupID belongs to; ENotFound
// when there is none.
func (s *Incidents) OfGroup(ctx context.Context, groupID int64) (*Incident, error) {
	var inc *Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { inc, err = tx.IncidentOfGroup(groupID); return err })
	return inc, err
}

// List returns at most limit incidents, only the open ones when open.
func (s *Incidents) List(ctx context.Context, open bool, limit int) ([]*Incident, error) {
	var incs []*Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { incs, err = tx.Incidents(open, limit); return err })
	return incs, err
}

// IncidentDetail is what showing an incident needs besides the incident
// (its open action items are the post-mortem feature's to read).
type IncidentDetail struct {
	Groups []*Group
	State  *IncidentState
}

// Detail reads inc's alert groups and state.
func (s *Incidents) Detail(ctx context.Context, inc *Incident) (IncidentDetail, error) {
	var d IncidentDetail
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
func (s *Incidents) OpenGroupsWithoutIncident(ctx context.Context, limit int) ([]*Group, error) {
	var gs []*Group
	err := s.Store.View(ctx, func(tx Tx) error {
		open, err := tx.OpenGroups(limit)
		for _, g := range open {
			if _, err := tx.IncidentOfGroup(g.ID); ErrorCode(err) == ENotFound {
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
func (s *Incidents) ThreadIncident(ctx context.Context, channelID string) (*Incident, []*Group, error) {
	return threadIncident(ctx, s.Store, channelID)
}

func threadIncident(ctx context.Context, store Store, channelID string) (*Incident, []*Group, error) {
	var inc *Incident
	var groups []*Group
	err := store.View(ctx, func(tx Tx) (err error) {
		if inc, err = tx.IncidentByThread(channelID); err != nil {
			return err
		}
		for _, id := range inc.GroupIDs {
			g, err := tx.Group(id)
			if err == nil {
				groups = append(groups, g)
			} else if ErrorCode(err) != ENotFound {
				return err
			}
		}
		return nil
	})
	if ErrorCode(err) == ENotFound {
		return nil, nil, nil
	}
	return inc, groups, err
}
