package handlers

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
	"github.com/marola-rp/klaxon/bot/incident"
)

// /problem (its old name /report still works for one release): detection by people. Any member reports; the triage message in
// the triage channel has buttons to declare an incident, link the report to
// an open one, or dismiss it.

func (h *Incidents) report(ctx context.Context, r *Request) (*Reply, error) {
	what := r.String("what")
	if what == "" {
		what = r.String("problem") // /report, the old name, calls it problem
	}
	rep, err := h.Triage.Report(ctx, what, r.ChannelID, r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("🙏 Thanks — report #%d is with the on-call team for triage. If it becomes an incident, you are added to its thread.", rep.ID),
		Ephemeral: true}, nil
}

// handled is the triage message once a report is dealt with: the outcome, no buttons.
func handled(rep *incident.UserReport, inc *bot.Incident, extra string) *Reply {
	e := embedOf(incident.TriageMessage(rep, inc))
	return &Reply{Update: true, Content: extra, Embeds: []*discordgo.MessageEmbed{e}, Components: []discordgo.MessageComponent{}}
}

func (h *Incidents) reportDeclare(ctx context.Context, r *Request) (*Reply, error) {
	id, err := idParam(r, hintReports)
	if err != nil {
		return nil, err
	}
	rep, inc, err := h.Triage.DeclareFromReport(ctx, id, bot.P2, r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	return handled(rep, inc, fmt.Sprintf("🚨 **%s** declared (P2) from report #%d by <@%s>. Reclassify it in its thread with `/incident priority`.",
		inc.Ref(), rep.ID, r.Actor().UserID)), nil
}

func (h *Incidents) reportLinkMenu(ctx context.Context, r *Request) (*Reply, error) {
	id, err := idParam(r, hintReports)
	if err != nil {
		return nil, err
	}
	open, err := h.Incidents.List(ctx, true, 25)
	if err != nil {
		return nil, err
	}
	if len(open) == 0 {
		return nil, bot.Errorf(bot.EConflict, "there are no open incidents to link to: declare one instead")
	}
	var opts []discordgo.SelectMenuOption
	for _, inc := range open {
		opts = append(opts, discordgo.SelectMenuOption{Label: truncateRunes(fmt.Sprintf("%s · %s · %s", inc.Ref(), inc.Priority, inc.Title), 100),
			Value: strconv.FormatInt(inc.ID, 10), Description: truncateRunes(string(inc.Status), 100)})
	}
	return &Reply{Ephemeral: true, Content: fmt.Sprintf("Link report #%d to which incident?", id),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.SelectMenu{CustomID: customid.Make(customid.ReportLink, id), Placeholder: "Open incidents", Options: opts},
		}}}}, nil
}

func (h *Incidents) reportLink(ctx context.Context, r *Request) (*Reply, error) {
	id, err := idParam(r, hintReports)
	if err != nil {
		return nil, err
	}
	vals := r.MessageComponentData().Values
	if len(vals) != 1 {
		return nil, bot.Errorf(bot.EInvalid, "choose one incident")
	}
	incID, ok := parseID(vals[0])
	if !ok {
		return nil, bot.Errorf(bot.EInvalid, "%q is not one of the incidents offered: %s", truncateRunes(vals[0], 40), hintReports)
	}
	rep, inc, err := h.Triage.LinkReport(ctx, id, incID, r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	// The triage message shows the outcome; if this edit fails, its
	// buttons say the report was handled when clicked.
	if h.Messages != nil && rep.MessageID != "" {
		if err := h.Messages.Edit(ctx, rep.TriageChannelID, rep.MessageID, incident.TriageMessage(rep, inc), nil); err != nil {
			h.log().Warn("edit triage message", "report", rep.ID, "err", err)
		}
	}
	return &Reply{Update: true, Content: fmt.Sprintf("🔗 Report #%d linked to **%s**%s.", rep.ID, inc.Ref(), where(inc)),
		Components: []discordgo.MessageComponent{}}, nil
}

func (h *Incidents) reportDismiss(ctx context.Context, r *Request) (*Reply, error) {
	id, err := idParam(r, hintReports)
	if err != nil {
		return nil, err
	}
	rep, err := h.Triage.DismissReport(ctx, id, r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	return handled(rep, nil, strings.TrimSpace(fmt.Sprintf("Report #%d dismissed by <@%s>.", rep.ID, r.Actor().UserID))), nil
}
