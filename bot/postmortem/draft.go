package postmortem

import (
	"context"
	"github.com/marola-rp/klaxon/bot"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Drafter writes the narrative sections of a post-mortem from the record,
// e.g. with an LLM (package bot/llm). Implementations must respect ctx's
// deadline. A refusal is a *DraftRefused; any error makes the caller keep
// the template.
type Drafter interface {
	Draft(ctx context.Context, in DraftInput) (*Draft, error)
}

// Draft is a Drafter's answer.
type Draft struct {
	Sections map[string]string // by Section.Key; missing keys keep the template
	Model    string            // what drafted it, shown in the document
}

// DraftRefused is a Drafter's refusal to write (a safety refusal, a content
// filter, or an answer that is not a draft).
type DraftRefused struct{ Reason string }

func (e *DraftRefused) Error() string { return "draft refused: " + e.Reason }

// DraftInput is what a Drafter may see. Sensitive labels and annotations
// are removed, and their values blanked wherever they appear in text;
// anything shaped like a secret or an e-mail address is blanked by value
// (ScrubSecrets); Discord users are "responder N" unless
// Policy.SendUserNames.
type DraftInput struct {
	Ref         string // "INC-42"
	Title       string
	Priority    string // "P0 (critical outage)"
	Impact      string
	Services    []string
	Started     time.Time
	Detected    time.Time
	Acked       time.Time
	Mitigated   time.Time
	Resolved    time.Time
	Timeline    []DraftEvent
	Alerts      []DraftAlert
	ActionItems []string
	Runbooks    []string // checklists run, e.g. "Service Down: 7/10 steps done"
	Sections    []Section
	Template    map[string]string // the template's sections, as a starting point
}

// DraftEvent is one timeline entry as the Drafter sees it.
type DraftEvent struct {
	At   time.Time
	Kind string
	Who  string
	Text string
}

// DraftAlert is one linked alert group as the Drafter sees it.
type DraftAlert struct {
	Name        string
	Priority    string
	Status      string
	Summary     string
	Labels      map[string]string
	Annotations map[string]string
	FiredAt     time.Time
	ResolvedAt  time.Time
}

// Redacted replaces sensitive values in drafter input.
const Redacted = "[redacted]"

// redactor removes sensitive labels and annotations and blanks their values
// in text, blanks secrets and e-mail addresses by their shape, and stands in
// for people.
type redactor struct {
	patterns []string
	values   []string    // longest first
	people   *pseudonyms // nil: user names may be sent
	legacy   func(string) string
}

func newRedactor(patterns []string, groups []*bot.Group) *redactor {
	r := &redactor{}
	for _, p := range patterns {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			r.patterns = append(r.patterns, p)
		}
	}
	seen := map[string]bool{}
	collect := func(m map[string]string) {
		for k, v := range m {
			v = strings.TrimSpace(v)
			if r.sensitive(k) && len(v) >= 3 && !seen[v] {
				seen[v] = true
				r.values = append(r.values, v)
			}
		}
	}
	for _, g := range groups {
		collect(g.GroupLabels)
		collect(g.CommonLabels)
		collect(g.CommonAnnotations)
		for _, a := range g.Alerts {
			collect(a.Labels)
			collect(a.Annotations)
		}
	}
	sort.Slice(r.values, func(i, j int) bool {
		if len(r.values[i]) != len(r.values[j]) {
			return len(r.values[i]) > len(r.values[j])
		}
		return r.values[i] < r.values[j]
	})
	return r
}

// sensitive reports whether a label or annotation name is sensitive.
func (r *redactor) sensitive(name string) bool {
	name = strings.ToLower(name)
	for _, p := range r.patterns {
		if ok, _ := path.Match(p, name); ok || p == name {
			return true
		}
	}
	return false
}

// text reads markup stored by older versions as references (legacy), blanks
// every sensitive value in s, then every secret- or e-mail-shaped one,
// replaces people by their pseudonyms, and renders the other references
// as plain text (bot.PlainRefs): a drafting prompt holds no tokens.
func (r *redactor) text(s string) string {
	if r.legacy != nil {
		s = r.legacy(s)
	}
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Redacted)
	}
	s = ScrubSecrets(s)
	if r.people != nil {
		s = r.people.text(s)
	}
	return bot.PlainRefs(s)
}

// withPeople makes the redactor stand in for the people of rec: every
// Discord user who acted, owns an action item or holds a role.
func (r *redactor) withPeople(rec *Record) *redactor {
	p := newPseudonyms()
	inc := rec.Incident
	roles := make([]string, 0, len(inc.Roles))
	for role := range inc.Roles {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	for _, e := range documentTimeline(rec) {
		p.add(e.Actor)
	}
	for _, role := range roles {
		if id := inc.Roles[role]; id != "" {
			p.person(id)
		}
	}
	for _, a := range rec.Actions {
		p.add(a.CreatedBy)
		p.add(a.DoneBy)
		if a.OwnerID != "" {
			p.person(a.OwnerID)
		}
	}
	for _, g := range rec.Groups {
		if g.Ack != nil {
			p.add(g.Ack.Actor)
		}
		if g.ResolvedBy != nil {
			p.add(g.ResolvedBy.Actor)
		}
	}
	r.people = p
	return r
}

// labels returns m without sensitive names, with sensitive values blanked.
func (r *redactor) labels(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !r.sensitive(k) {
			out[k] = r.text(v)
		}
	}
	return out
}

// DraftInput builds what the Drafter sees of a record, without sensitive data.
func (p *Service) DraftInput(rec *Record) DraftInput {
	r := newRedactor(p.Policy.Sensitive, rec.Groups)
	r.legacy = p.Legacy
	if !p.Policy.SendUserNames {
		r.withPeople(rec)
	}
	inc := rec.Incident
	in := DraftInput{
		Ref: inc.Ref(), Title: r.text(inc.Title), Priority: inc.Priority.String() + " (" + inc.Priority.Meaning() + ")",
		Impact: r.text(inc.Impact), Started: inc.StartedAt, Detected: inc.DetectedAt, Acked: inc.AckedAt,
		Mitigated: inc.MitigatedAt, Resolved: inc.ResolvedAt, Sections: Sections, Template: map[string]string{},
	}
	for _, s := range inc.Services {
		in.Services = append(in.Services, r.text(s))
	}
	for _, e := range documentTimeline(rec) {
		in.Timeline = append(in.Timeline, DraftEvent{At: e.At, Kind: e.Kind, Who: r.text(actorLabel(e.Actor)), Text: r.text(e.Text)})
	}
	for _, g := range rec.Groups {
		a := DraftAlert{Name: r.text(g.Title()), Priority: g.Priority.String(), Status: string(g.Status), Summary: r.text(g.Summary()),
			Labels: r.labels(g.CommonLabels), Annotations: r.labels(g.CommonAnnotations), FiredAt: groupStart(g), ResolvedAt: g.ResolvedAt}
		if len(g.CommonLabels) == 0 && len(g.Alerts) > 0 {
			a.Labels = r.labels(g.Alerts[0].Labels)
		}
		in.Alerts = append(in.Alerts, a)
	}
	for _, a := range rec.Actions {
		in.ActionItems = append(in.ActionItems, r.text(a.Text))
	}
	for _, c := range rec.Checklists {
		in.Runbooks = append(in.Runbooks, r.text(c.Title)+": "+strconv.Itoa(c.DoneCount())+"/"+strconv.Itoa(len(c.Steps))+" steps done")
	}
	for k, v := range TemplateSections(rec) {
		in.Template[k] = r.text(v)
	}
	return in
}
