// Package chart renders Klaxon's report charts with gonum.org/v1/plot. It
// implements bot.Charter, so that the core needs no plotting code.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/marola-rp/klaxon/bot/calendar"
)

// Charter renders PNG charts of a fixed size.
type Charter struct {
	Width, Height vg.Length // default 20 cm × 10 cm
	DPI           int       // default 96
}

var _ calendar.Charter = Charter{}

// BurnChart implements bot.Charter: one line per service showing the share
// of its monthly error budget spent so far, with the 100 % (exhausted) line.
func (c Charter) BurnChart(title string, start, end time.Time, series []calendar.BurnSeries) ([]byte, error) {
	if !start.Before(end) {
		return nil, errors.New("chart: the period is empty")
	}
	loc := start.Location()
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = start.Format("January 2006") + " (" + loc.String() + ")"
	p.Y.Label.Text = "error budget spent (%)"
	p.X.Min, p.X.Max = float64(start.Unix()), float64(end.Unix())
	p.X.Tick.Marker = plot.TimeTicks{Format: "2 Jan", Ticker: dayTicks{loc: loc}, Time: func(t float64) time.Time {
		return time.Unix(int64(t), 0).In(loc)
	}}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true

	top := 100.0
	for i, s := range series {
		if len(s.Points) == 0 {
			continue
		}
		xys := make(plotter.XYs, 0, len(s.Points))
		for _, pt := range s.Points {
			y := pt.Spent * 100
			xys = append(xys, plotter.XY{X: float64(pt.T.Unix()), Y: y})
			top = max(top, y)
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("chart: %s: %w", s.Service, err)
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(2)
		l.Dashes = plotutil.Dashes(i / len(plotutil.DefaultColors))
		p.Add(l)
		p.Legend.Add(s.Service, l)
	}
	limit, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: 100}, {X: p.X.Max, Y: 100}})
	if err != nil {
		return nil, err
	}
	limit.Color = color.RGBA{R: 0xE0, G: 0x1E, B: 0x1E, A: 0xFF}
	limit.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	p.Add(limit)
	p.Legend.Add("budget exhausted", limit)
	p.Y.Min, p.Y.Max = 0, min(top*1.1, maxPercent)
	if top > maxPercent {
		p.Y.Label.Text += fmt.Sprintf(" — axis cut at %.0f %%", maxPercent)
	}

	w, h := c.Width, c.Height
	if w == 0 {
		w = 20 * vg.Centimeter
	}
	if h == 0 {
		h = 10 * vg.Centimeter
	}
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	if c.DPI > 0 {
		if cw, ok := wt.(interface{ SetDPI(int) }); ok {
			cw.SetDPI(c.DPI)
		}
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	return buf.Bytes(), nil
}

// maxPercent is where the y axis is cut, so that one service far over its
// budget does not flatten the others.
const maxPercent = 200.0

// dayTicks puts a tick at local midnight, labelled every few days.
type dayTicks struct{ loc *time.Location }

func (d dayTicks) Ticks(min, max float64) []plot.Tick {
	lo := time.Unix(int64(min), 0).In(d.loc)
	day := time.Date(lo.Year(), lo.Month(), lo.Day(), 0, 0, 0, 0, d.loc)
	var ticks []plot.Tick
	for t := day; !t.After(time.Unix(int64(max), 0)); t = t.AddDate(0, 0, 1) {
		if float64(t.Unix()) < min {
			continue
		}
		tk := plot.Tick{Value: float64(t.Unix())}
		if (t.Day()-1)%5 == 0 && float64(t.Unix()) < max {
			tk.Label = t.Format("2 Jan")
		}
		ticks = append(ticks, tk)
	}
	return ticks
}
