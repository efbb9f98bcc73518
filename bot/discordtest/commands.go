package discordtest

import (
	"encoding/json"
	"maps"

	"github.com/bwmarrin/discordgo"
)

// command is a registered application command, kept as JSON.
type command struct {
	raw map[string]any
}

func (c *command) id() string   { s, _ := c.raw["id"].(string); return s }
func (c *command) name() string { s, _ := c.raw["name"].(string); return s }
func (c *command) typ() float64 {
	if t, ok := c.raw["type"].(float64); ok {
		return t
	}
	return 1
}

func init() {
	const g = "/applications/{application_id}/commands"
	const gg = "/applications/{application_id}/guilds/{guild_id}/commands"
	register(map[string]handler{
		"GET " + g: hListCommands, "PUT " + g: hBulkCommands, "POST " + g: hUpsertCommand,
		"GET " + g + "/{command_id}": hGetCommand, "PATCH " + g + "/{command_id}": hPatchCommand, "DELETE " + g + "/{command_id}": hDeleteCommand,
		"GET " + gg: hListCommands, "PUT " + gg: hBulkCommands, "POST " + gg: hUpsertCommand,
		"GET " + gg + "/{command_id}": hGetCommand, "PATCH " + gg + "/{command_id}": hPatchCommand, "DELETE " + gg + "/{command_id}": hDeleteCommand,
		"GET " + gg + "/permissions": func(c *call) (int, any) { return 200, []any{} },
	})
}

// commandScope checks the application id and returns the scope key ("" for
// global commands).
func (c *call) commandScope() (string, *apiError) {
	if c.params["application_id"] != c.s.opts.ApplicationID {
		c.violate("state", "application id is not the bot's application")
		return "", errf(403, 50001, "Missing Access")
	}
	gid := c.params["guild_id"]
	if gid != "" && c.s.st.guilds[gid] == nil {
		return "", errUnknownGuild
	}
	return gid, nil
}

func (s *Server) commandJSON(scope string, cmd *command) map[string]any {
	out := maps.Clone(cmd.raw)
	if scope != "" {
		out["guild_id"] = scope
	}
	return out
}

func (s *Server) newCommandLocked(scope string, raw map[string]any, keep *command) *command {
	raw = maps.Clone(raw)
	if keep != nil {
		raw["id"] = keep.id()
	} else {
		raw["id"] = s.st.nextID(s.opts.Now())
	}
	raw["application_id"] = s.opts.ApplicationID
	raw["version"] = s.st.nextID(s.opts.Now())
	if _, ok := raw["type"]; !ok {
		raw["type"] = float64(1)
	}
	for _, k := range []string{"default_member_permissions"} {
		if _, ok := raw[k]; !ok {
			raw[k] = nil
		}
	}
	return &command{raw: raw}
}

func findCommand(list []*command, name string, typ float64) int {
	for i, c := range list {
		if c.name() == name && c.typ() == typ {
			return i
		}
	}
	return -1
}

func hListCommands(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	scope, e := c.commandScope()
	if e != nil {
		return 0, e
	}
	out := []any{}
	for _, cmd := range s.st.commands[scope] {
		out = append(out, s.commandJSON(scope, cmd))
	}
	return 200, out
}

func hBulkCommands(c *call) (int, any) {
	s := c.s
	var in []map[string]any
	if err := c.decode(&in); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	scope, e := c.commandScope()
	if e != nil {
		return 0, e
	}
	old := s.st.commands[scope]
	var list []*command
	out := []any{}
	for _, raw := range in {
		n, _ := raw["name"].(string)
		t, ok := raw["type"].(float64)
		if !ok {
			t = 1
		}
		var keep *command
		if i := findCommand(old, n, t); i >= 0 {
			keep = old[i]
		}
		cmd := s.newCommandLocked(scope, raw, keep)
		list = append(list, cmd)
		out = append(out, s.commandJSON(scope, cmd))
	}
	s.st.commands[scope] = list
	return 200, out
}

func hUpsertCommand(c *call) (int, any) {
	s := c.s
	var raw map[string]any
	if err := c.decode(&raw); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	scope, e := c.commandScope()
	if e != nil {
		return 0, e
	}
	n, _ := raw["name"].(string)
	t, ok := raw["type"].(float64)
	if !ok {
		t = 1
	}
	list := s.st.commands[scope]
	if i := findCommand(list, n, t); i >= 0 {
		cmd := s.newCommandLocked(scope, raw, list[i])
		list[i] = cmd
		return 200, s.commandJSON(scope, cmd)
	}
	cmd := s.newCommandLocked(scope, raw, nil)
	s.st.commands[scope] = append(list, cmd)
	return 201, s.commandJSON(scope, cmd)
}

func (c *call) commandIndex() (string, int, *apiError) {
	scope, e := c.commandScope()
	if e != nil {
		return "", -1, e
	}
	for i, cmd := range c.s.st.commands[scope] {
		if cmd.id() == c.params["command_id"] {
			return scope, i, nil
		}
	}
	return "", -1, errUnknownCommand
}

func hGetCommand(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	scope, i, e := c.commandIndex()
	if e != nil {
		return 0, e
	}
	return 200, s.commandJSON(scope, s.st.commands[scope][i])
}

func hPatchCommand(c *call) (int, any) {
	s := c.s
	var patch map[string]any
	if err := c.decode(&patch); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	scope, i, e := c.commandIndex()
	if e != nil {
		return 0, e
	}
	old := s.st.commands[scope][i]
	raw := maps.Clone(old.raw)
	maps.Copy(raw, patch)
	cmd := s.newCommandLocked(scope, raw, old)
	s.st.commands[scope][i] = cmd
	return 200, s.commandJSON(scope, cmd)
}

func hDeleteCommand(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	scope, i, e := c.commandIndex()
	if e != nil {
		return 0, e
	}
	list := s.st.commands[scope]
	s.st.commands[scope] = append(list[:i:i], list[i+1:]...)
	return 204, nil
}

// Commands returns the registered application commands of a guild ("" =
// global commands), in registration order.
func (s *Server) Commands(guildID string) []discordgo.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []discordgo.ApplicationCommand
	for _, cmd := range s.st.commands[guildID] {
		b, _ := json.Marshal(s.commandJSON(guildID, cmd))
		var ac discordgo.ApplicationCommand
		if err := json.Unmarshal(b, &ac); err == nil {
			out = append(out, ac)
		}
	}
	return out
}

func (s *Server) commandIDLocked(guildID, name string) string {
	for _, scope := range []string{guildID, ""} {
		if i := findCommand(s.st.commands[scope], name, 1); i >= 0 {
			return s.st.commands[scope][i].id()
		}
	}
	return ""
}
