package promquery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/promquery"
)

func TestAvailability(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(10 * 24 * time.Hour)
	tests := []struct {
		name, body string
		want       float64
		wantErr    string
	}{
		{"vector", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.9995"]}]}}`, 0.9995, ""},
		{"scalar", `{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`, 1, ""},
		{"two series", `{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"1"]}]}}`, 0, "returns 2 series"},
		{"no data", `{"status":"success","data":{"resultType":"vector","result":[]}}`, 0, "returns 0 series"},
		{"percent not ratio", `{"status":"success","data":{"resultType":"scalar","result":[1,"99.9"]}}`, 0, "between 0 and 1"},
		{"bad query", `{"status":"error","errorType":"bad_data","error":"parse error"}`, 0, "parse error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var gotQuery, gotTime string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotQuery, gotTime = r.URL.Query().Get("query"), r.URL.Query().Get("time")
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := &promquery.Client{URL: srv.URL + "/"}
			slo := bot.SLO{Service: "web", Query: `avg_over_time(probe_success{service="$service"}[$window])`}
			got, err := c.Availability(context.Background(), slo, from, to)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(bot.ErrorMessage(err), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			if gotQuery != `avg_over_time(probe_success{service="web"}[864000s])` || gotTime != strconv.FormatInt(to.Unix(), 10) {
				t.Errorf("query %q at %s", gotQuery, gotTime)
			}
		})
	}
}
