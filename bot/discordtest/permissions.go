package discordtest

import "slices"

// Overwrite is a channel permission overwrite: for a role (Type 0; the
// guild's id is @everyone) or a member (Type 1). The fake stores and
// returns overwrites and role permissions (GET /channels/{id},
// /guilds/{id}, /guilds/{id}/roles) but does not enforce them: requests
// succeed whatever the bot may do, as before. Clients compute effective
// permissions from them, as `klaxon check-config --online` does.
type Overwrite struct {
	ID    string
	Type  int // 0 role, 1 member
	Allow int64
	Deny  int64
}

// SetOverwrite sets (or, with allow and deny both 0, removes) the
// channel's permission overwrite for a role or member.
func (s *Server) SetOverwrite(channelID string, o Overwrite) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.st.channels[channelID]
	if ch == nil {
		return
	}
	ch.Overwrites = slices.DeleteFunc(ch.Overwrites, func(x Overwrite) bool { return x.ID == o.ID && x.Type == o.Type })
	if o.Allow != 0 || o.Deny != 0 {
		ch.Overwrites = append(ch.Overwrites, o)
	}
}

// SetRolePermissions sets a role's guild-wide permissions (the @everyone
// role's id is the guild's).
func (s *Server) SetRolePermissions(roleID string, perms int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.st.roles[roleID]; r != nil {
		r.Permissions = perms
	}
}

// SetGuildOwner makes userID the guild's owner. A guild's owner has every
// permission; AddGuild makes the bot the owner, so to test permissions make
// someone else the owner first.
func (s *Server) SetGuildOwner(guildID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.st.guilds[guildID]; g != nil {
		g.OwnerID = userID
	}
}
