// Package promquery asks Prometheus's HTTP query API for a service's
// availability. It implements bot.AvailabilityQuerier.
package promquery

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
)

// Client queries one Prometheus server.
type Client struct {
	URL  string       // e.g. http://prometheus:9090
	HTTP *http.Client // default: 10 s timeout
}

var _ calendar.AvailabilityQuerier = (*Client)(nil)

// Availability implements bot.AvailabilityQuerier: it evaluates the SLO's
// query at `to`, with $window replaced by the window's length in seconds
// (e.g. "2592000s") and $service by the service name. The query must give
// one number between 0 and 1.
func (c *Client) Availability(ctx context.Context, slo bot.SLO, from, to time.Time) (float64, error) {
	if slo.Query == "" {
		return 0, bot.Errorf(bot.EInvalid, "service %s has no Prometheus query", slo.Service)
	}
	window := max(int64(to.Sub(from).Seconds()), 1)
	q := strings.NewReplacer("$window", strconv.FormatInt(window, 10)+"s", "$service", slo.Service).Replace(slo.Query)
	u, err := url.Parse(strings.TrimRight(c.URL, "/") + "/api/v1/query")
	if err != nil {
		return 0, bot.WrapError(bot.EInvalid, err, "Prometheus URL %q is not a URL", c.URL)
	}
	v := url.Values{}
	v.Set("query", q)
	v.Set("time", strconv.FormatInt(to.Unix(), 10))
	u.RawQuery = v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, bot.WrapError(bot.EUnavailable, err, "Prometheus at %s did not answer", c.URL)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, bot.WrapError(bot.EUnavailable, err, "reading Prometheus's answer failed")
	}
	var r struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, bot.Errorf(bot.EUnavailable, "Prometheus answered HTTP %d without JSON", resp.StatusCode)
	}
	if r.Status != "success" {
		return 0, bot.Errorf(bot.EInvalid, "Prometheus refused the query for %s (%s): %s", slo.Service, r.ErrorType, r.Error)
	}
	var sample []any
	switch r.Data.ResultType {
	case "scalar":
		if err := json.Unmarshal(r.Data.Result, &sample); err != nil {
			return 0, err
		}
	case "vector":
		var vec []struct {
			Value []any `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &vec); err != nil {
			return 0, err
		}
		if len(vec) != 1 {
			return 0, bot.Errorf(bot.EInvalid, "the Prometheus query for %s returns %d series; it must return one (wrap it in avg(...) or min(...))", slo.Service, len(vec))
		}
		sample = vec[0].Value
	default:
		return 0, bot.Errorf(bot.EInvalid, "the Prometheus query for %s returns a %s; it must return one number", slo.Service, r.Data.ResultType)
	}
	if len(sample) != 2 {
		return 0, bot.Errorf(bot.EInvalid, "Prometheus returned a malformed sample for %s", slo.Service)
	}
	s, _ := sample[1].(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1 {
		return 0, bot.Errorf(bot.EInvalid, "the Prometheus query for %s gave %q; it must be an availability ratio between 0 and 1", slo.Service, s)
	}
	return f, nil
}
