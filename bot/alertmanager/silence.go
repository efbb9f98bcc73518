// Package alertmanager talks to Alertmanager's API v2 with the client and
// models Alertmanager itself publishes: Klaxon creates and expires silences
// from Discord.
package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/marola-rp/klaxon/bot"
)

// Client creates and expires silences.
type Client struct {
	api *client.AlertmanagerAPI
	url string
}

// New returns a client for the Alertmanager at base (e.g. http://alertmanager:9093).
func New(base string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("alertmanager url %q: want http(s)://host[:port][/path]", base)
	}
	cfg := client.DefaultTransportConfig().WithHost(u.Host).WithBasePath(u.Path + "/api/v2").WithSchemes([]string{u.Scheme})
	c := client.NewHTTPClientWithConfig(strfmt.Default, cfg)
	if hc != nil {
		if rt, ok := c.Transport.(interface{ SetHTTPClient(*http.Client) }); ok {
			rt.SetHTTPClient(hc)
		}
	}
	return &Client{api: c, url: u.String()}, nil
}

// Matchers returns the equality matchers of a silence for a group: its
// full label set — every label the group's firing alerts all share (with
// the group labels, which they share by definition) — not only the labels
// Alertmanager grouped by. So the silence mutes what was checked, and not
// a more urgent alert that joins the group later with another severity.
//
// When none of the firing alerts carries a priority or severity label, the
// label is pinned to "" (Alertmanager's equality matcher on "" matches an
// absent label), so an alert that later arrives with priority="P0" is not
// muted either. Without firing alerts the common labels are used.
func Matchers(g *bot.Group) map[string]string { return bot.SilenceMatchers(g) }

// CreateSilence silences alerts matching every label in matchers from now
// until end, and returns the silence id.
func (c *Client) CreateSilence(ctx context.Context, matchers map[string]string, start, end time.Time, createdBy, comment string) (string, error) {
	if len(matchers) == 0 {
		return "", bot.Errorf(bot.EInvalid, "this alert group has no labels to silence by")
	}
	var ms models.Matchers
	for name, value := range matchers {
		name, value := name, value
		t, f := true, false
		ms = append(ms, &models.Matcher{Name: &name, Value: &value, IsEqual: &t, IsRegex: &f})
	}
	comment = bot.PlainRefs(comment) // references read as plain text in Alertmanager
	s, e := strfmt.DateTime(start), strfmt.DateTime(end)
	body := &models.PostableSilence{Silence: models.Silence{Matchers: ms, StartsAt: &s, EndsAt: &e, CreatedBy: &createdBy, Comment: &comment}}
	ok, err := c.api.Silence.PostSilences(silence.NewPostSilencesParamsWithContext(ctx).WithSilence(body))
	if err != nil {
		return "", mapErr("create silence", err)
	}
	return ok.Payload.SilenceID, nil
}

// ExpireSilence ends a silence now. An unknown or already expired silence is not an error.
func (c *Client) ExpireSilence(ctx context.Context, id string) error {
	_, err := c.api.Silence.DeleteSilence(silence.NewDeleteSilenceParamsWithContext(ctx).WithSilenceID(strfmt.UUID(id)))
	var nf *silence.DeleteSilenceNotFound
	var ie *silence.DeleteSilenceInternalServerError
	if errors.As(err, &nf) || (errors.As(err, &ie) && strings.Contains(string(ie.Payload), "not found")) {
		return nil // 0.25 answers 500 "silence not found"; newer versions 404
	}
	if err != nil {
		return mapErr("expire silence", err)
	}
	return nil
}

// URL is the Alertmanager's base URL.
func (c *Client) URL() string { return c.url }

func mapErr(op string, err error) error {
	var bad *silence.PostSilencesBadRequest
	if errors.As(err, &bad) {
		return bot.WrapError(bot.EInvalid, err, "Alertmanager refused the silence: %s", bad.Payload)
	}
	return bot.WrapError(bot.EUnavailable, err, "Alertmanager did not answer (%s); try again or silence it in Alertmanager directly", op)
}
