package handlers

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/text"
)

// ConfigReloader re-reads, validates and applies the configuration file
// (implemented in cmd/klaxon, the same reload as SIGHUP). It reports
// whether the file was applied and a summary: the problems of a refused
// file, or what was applied and what needs a restart.
type ConfigReloader interface {
	ReloadConfig(ctx context.Context, by string) (applied bool, summary string)
}

// ConfigReload answers /admin reload.
type ConfigReload struct {
	Service ConfigReloader
}

// adminFeature declares /admin (reload): administering the running Klaxon.
func adminFeature() Feature {
	return Feature{Name: "admin", Commands: []*discordgo.ApplicationCommand{{
		Name:        "admin",
		Description: "Administer Klaxon: reload the configuration",
		Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "reload",
				Description: "Re-read and apply the configuration file (a file with errors is refused and the running one kept)"},
		},
	}}}
}

// Register adds /admin reload to x.
func (h *ConfigReload) Register(x *Interactions) {
	x.Declare(adminFeature())
	x.Command("admin reload", ActConfigReload, true, h.reload)
}

func (h *ConfigReload) reload(ctx context.Context, r *Request) (*Reply, error) {
	by := ""
	if r != nil && r.User != nil {
		by = r.User.ID
	}
	applied, summary := h.Service.ReloadConfig(ctx, by)
	icon := "✅ "
	if !applied {
		icon = "❌ "
	}
	return &Reply{Content: text.Truncate(icon+summary, 1900), Ephemeral: true}, nil
}
