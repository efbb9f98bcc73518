package bot

import (
	"context"
	"maps"
	"time"
)

// Silencer is the port to the silences of the alert source (Alertmanager's
// API v2, implemented by bot/alertmanager.Client). The paging feature's
// silence service drives it.
type Silencer interface {
	CreateSilence(ctx context.Context, matchers map[string]string, start, end time.Time, createdBy, comment string) (string, error)
	ExpireSilence(ctx context.Context, id string) error
}

// SilenceMatchers returns the equality matchers of a silence made from g:
// the labels every firing alert of g shares (see alertmanager.Matchers),
// with an absent priority or severity pinned to "".
func SilenceMatchers(g *Group) map[string]string {
	m := map[string]string{}
	var firing []Alert
	for _, a := range g.Alerts {
		if a.Status == Firing {
			firing = append(firing, a)
		}
	}
	if len(firing) == 0 {
		maps.Copy(m, g.CommonLabels)
	} else {
		maps.Copy(m, firing[0].Labels)
		for _, a := range firing[1:] {
			for k, v := range m {
				if w, ok := a.Labels[k]; !ok || w != v {
					delete(m, k)
				}
			}
		}
	}
	for k, v := range g.GroupLabels {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	for _, k := range []string{PriorityLabel, SeverityLabel} {
		if _, ok := m[k]; ok {
			continue
		}
		has := false
		for _, a := range firing {
			_, ok := a.Labels[k]
			has = has || ok
		}
		if !has {
			m[k] = ""
		}
	}
	return m
}
