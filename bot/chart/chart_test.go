package chart_test

import (
	"bytes"
	"image/png"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/chart"
)

func TestBurnChartIsAPNG(t *testing.T) {
	berlin, err := bot.LoadZone("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, berlin)
	end := start.AddDate(0, 1, 0)
	series := []calendar.BurnSeries{
		{Service: "web", Points: []calendar.BurnPoint{{T: start, Spent: 0}, {T: start.AddDate(0, 0, 10), Spent: 0.4}, {T: start.AddDate(0, 0, 20), Spent: 1.3}}},
		{Service: "cdn", Points: []calendar.BurnPoint{{T: start, Spent: 0}, {T: start.AddDate(0, 0, 20), Spent: 0}}},
		{Service: "empty"},
	}
	tests := []struct {
		name string
		c    chart.Charter
	}{
		{"default size", chart.Charter{}},
		{"custom size", chart.Charter{Width: 400, Height: 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.c.BurnChart("Error budget spent — March 2026", start, end, series)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if r := img.Bounds(); r.Dx() < 300 || r.Dy() < 150 {
				t.Errorf("image is %v, too small to read", r)
			}
		})
	}
	if _, err := (chart.Charter{}).BurnChart("x", end, start, series); err == nil {
		t.Error("an empty period should fail")
	}
}
