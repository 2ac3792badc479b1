// Package chart draws the charts of report.html as inline SVG: line,
// step and bar charts on linear or log axes, with a legend and reference
// rules. No script, no font or style from outside, so the page opens from
// disk and prints. A chart has a fixed viewBox and scales with the page;
// Chart.SVG escapes every text it draws, so its output can be embedded
// whole.
package chart

import (
	"github.com/wsbench/wsbench/internal/wrap"
	"math"
	"strconv"
	"strings"
)

// Okabe–Ito colours, distinguishable with the common colour-vision
// deficiencies; yellow is left out (unreadable on white). Each series also
// gets its own dash pattern, so a grey print still tells them apart.
var svgPalette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}

var svgDashes = []string{"", "7 3", "2 2", "9 3 2 3", "4 4", "12 4", "1 3"}

func svgColor(i int) string { return svgPalette[i%len(svgPalette)] }
func svgDash(i int) string  { return svgDashes[i%len(svgDashes)] }

// Chart geometry, in viewBox units (about CSS pixels at full width).
const (
	svgWidth     = 640
	svgPlotH     = 230 // height of the plot area
	svgLeft      = 68  // room for y tick labels and the y label
	svgRight     = 18
	svgTitleRoom = 26 // above the plot: the title; each note line adds svgNoteLine
	svgNoteLine  = 14
	svgNoteChars = 96 // characters of 11 px text that fit the plot's width
	svgAxisRoom  = 46 // below the plot: x tick labels and the x label
	svgLegendRow = 20
	svgCharPx    = 6.6 // average width of a 12 px character, for layout
)

// Scale maps data values onto pixels, linearly or on log10.
type Scale int

const (
	Linear Scale = iota
	Log
)

// Axis is one axis: its label (with the unit), scale, range and ticks.
// A zero range is taken from the data; nil ticks are chosen from the range.
type Axis struct {
	Label    string
	Scale    Scale
	Min, Max float64
	Ticks    []Tick
	Format   func(float64) string // tick labels; Number when nil
}

type Tick struct {
	V     float64
	Label string
}

// Series is one line of a chart, usually one target.
type Series struct {
	Name   string
	Points []Point
	Step   bool // a value holds until the next point (survival curves)
	Marks  bool // a marker at every point; hollow where the point is bad
}

type Point struct {
	X, Y float64
	Bad  bool // with marks: drawn hollow (e.g. a ramp step over the SLO)
}

// Rule is a labelled reference line across the plot (an SLO, the best
// ramp step). series picks its colour; -1 draws it in neutral dark grey.
type Rule struct {
	Vertical bool
	V        float64
	Label    string
	Series   int
}

// Bars is a grouped bar chart: one group per category, one bar per
// series in each group. Series names come from Chart.series.
type Bars struct {
	Categories []string
	Values     [][]float64 // [series][category]
	Labels     [][]string  // optional text above each bar, same shape
}

// Chart is one chart. kind goes into the data-chart attribute, so a
// test (or a reader's own script) finds every chart of a kind.
type Chart struct {
	Kind   string
	Title  string
	Note   string // small print under the title
	X, Y   Axis
	Series []Series
	Bars   *Bars
	Rules  []Rule
}

// svgBuf collects SVG markup.
type svgBuf struct{ strings.Builder }

// svgFrame is the plot area in viewBox units.
type svgFrame struct{ x0, x1, y0, y1 float64 }

// SVG returns the chart as an <svg> element: well-formed XML whatever
// the input (non-finite values are left out, text is escaped).
func (c *Chart) SVG() string {
	if c.Bars != nil {
		c.X = Axis{Label: c.X.Label}
		c.Y.Scale = Linear
	}
	c.fitAxes()
	legend := c.legendLayout()
	rows := 0
	for _, e := range legend {
		rows = max(rows, e.row+1)
	}
	notes := svgWrap(c.Note, svgNoteChars, 3)
	top := float64(svgTitleRoom + svgNoteLine*len(notes) + 6)
	height := int(top) + svgPlotH + svgAxisRoom + rows*svgLegendRow + 6
	f := svgFrame{x0: svgLeft, x1: svgWidth - svgRight, y0: top, y1: top + svgPlotH}

	var b svgBuf
	b.WriteString(`<svg role="img" class="chart"`)
	b.attr("data-chart", c.Kind)
	b.WriteString(` viewBox="0 0 ` + strconv.Itoa(svgWidth) + " " + strconv.Itoa(height) + `"`)
	b.attr("aria-label", c.Title)
	b.WriteString(">")
	b.WriteString("<title>" + svgEscape(c.Title) + "</title>")
	b.text(svgLeft, 16, "title", "start", c.Title)
	for i, line := range notes {
		b.text(svgLeft, float64(svgTitleRoom+6+svgNoteLine*i), "note", "start", line)
	}
	c.drawGrid(&b, f)
	b.WriteString(`<rect class="frame" fill="none"`)
	b.attrNum("x", f.x0)
	b.attrNum("y", f.y0)
	b.attrNum("width", f.x1-f.x0)
	b.attrNum("height", f.y1-f.y0)
	b.WriteString("/>")
	if c.Bars != nil {
		c.drawBars(&b, f)
	} else {
		for i := range c.Series {
			c.drawSeries(&b, f, i)
		}
	}
	c.drawRules(&b, f)
	b.text((f.x0+f.x1)/2, f.y1+38, "axis-label", "middle", c.X.Label)
	b.WriteString(`<text class="axis-label" text-anchor="middle" transform="translate(14 `)
	b.num((f.y0 + f.y1) / 2)
	b.WriteString(`) rotate(-90)">` + svgEscape(c.Y.Label) + "</text>")
	c.drawLegend(&b, f, legend)
	b.WriteString("</svg>")
	return b.String()
}

// text writes a <text> element at (x, y).
func (b *svgBuf) text(x, y float64, class, anchor, s string) {
	b.WriteString("<text")
	b.attr("class", class)
	b.attrNum("x", x)
	b.attrNum("y", y)
	if anchor != "start" {
		b.attr("text-anchor", anchor)
	}
	b.WriteString(">" + svgEscape(s) + "</text>")
}

func (b *svgBuf) num(v float64) { b.WriteString(strconv.FormatFloat(v, 'f', 1, 64)) }

// attr writes ` name="value"` with value escaped.
func (b *svgBuf) attr(name, value string) {
	b.WriteString(" " + name + `="` + svgEscape(value) + `"`)
}

func (b *svgBuf) attrNum(name string, v float64) {
	b.WriteString(" " + name + `="`)
	b.num(v)
	b.WriteString(`"`)
}

// svgEscape makes s safe as XML text and inside a quoted attribute, and
// drops the control characters XML 1.0 forbids.
func svgEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&#39;")
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// svgWrap breaks s into at most maxLines lines of about width characters,
// at spaces; the last line is clipped with "…" if the text goes on.
func svgWrap(s string, width, maxLines int) []string {
	if s == "" {
		return nil
	}
	lines := wrap.Words(strings.Fields(s), width)
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = wrap.Clip(lines[maxLines-1], width-2) + " …"
	}
	for i, l := range lines {
		lines[i] = wrap.Clip(l, width)
	}
	return lines
}

// svgLimit bounds the values a chart draws: beyond it (or NaN) a value is
// left out, so axis arithmetic never overflows. No latency, rate or count
// in a report comes near it.
const svgLimit = 1e15

// Finite reports whether v can be drawn.
func Finite(v float64) bool { return v >= -svgLimit && v <= svgLimit }

// fitAxes sets each axis's range and ticks from the data where the chart
// did not fix them.
func (c *Chart) fitAxes() {
	var xs, ys []float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			if Finite(p.X) && Finite(p.Y) {
				xs, ys = append(xs, p.X), append(ys, p.Y)
			}
		}
	}
	for _, r := range c.Rules {
		if !Finite(r.V) {
			continue
		}
		if r.Vertical {
			xs = append(xs, r.V)
		} else {
			ys = append(ys, r.V)
		}
	}
	if c.Bars != nil {
		for _, vs := range c.Bars.Values {
			for _, v := range vs {
				if Finite(v) {
					ys = append(ys, v)
				}
			}
		}
	}
	svgFitAxis(&c.X, xs, 0)
	// Headroom above the data: a line at the maximum stays off the frame,
	// and bar labels inside the plot.
	svgFitAxis(&c.Y, ys, 0.06)
}

// svgFitAxis gives a a usable range and ticks: from the data when its range
// is unset, widened to round tick values.
func svgFitAxis(a *Axis, data []float64, headroom float64) {
	if a.Format == nil {
		a.Format = Number
	}
	if !Finite(a.Min) || !Finite(a.Max) || a.Scale == Log && a.Min < 1/svgLimit && a.Max > a.Min {
		a.Min, a.Max = 0, 0
	}
	if a.Max <= a.Min {
		a.Min, a.Max = svgDataRange(a.Scale, data)
		if a.Scale == Linear {
			a.Max += (a.Max - a.Min) * headroom
		}
	}
	if a.Scale == Log {
		if a.Min <= 0 {
			a.Min = math.Min(a.Max, 1) / 10
		}
		if a.Max <= a.Min {
			a.Max = a.Min * 10
		}
	} else if a.Max-a.Min <= 1e-9*math.Max(math.Abs(a.Max), 1/svgLimit) {
		// One value (or a span rounding cannot resolve): a unit around it.
		a.Min, a.Max = a.Min-math.Max(math.Abs(a.Min)/2, 0.5), a.Max+math.Max(math.Abs(a.Max)/2, 0.5)
	}
	if a.Ticks != nil {
		return
	}
	if a.Scale == Log {
		a.Min, a.Max, a.Ticks = svgLogTicks(a.Min, a.Max, a.Format)
	} else {
		a.Min, a.Max, a.Ticks = svgLinearTicks(a.Min, a.Max, a.Format)
	}
}

// svgDataRange is the span of the data: from 0 on a linear axis (so bars and
// latencies are not exaggerated), from the smallest positive value on a
// log axis.
func svgDataRange(scale Scale, data []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range data {
		if scale == Log && v < 1/svgLimit {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 1) {
		if scale == Log {
			return 1, 10
		}
		return 0, 1
	}
	if scale == Linear {
		lo = math.Min(lo, 0)
	}
	return lo, hi
}

// svgNiceStep rounds a raw tick step to 1, 2 or 5 times a power of ten.
func svgNiceStep(raw float64) float64 {
	exp := math.Floor(math.Log10(raw))
	base := math.Pow(10, exp)
	switch f := raw / base; {
	case f <= 1:
		return base
	case f <= 2:
		return 2 * base
	case f <= 5:
		return 5 * base
	}
	return 10 * base
}

// svgLinearTicks chooses about five round ticks and widens the range down
// to a tick, and up to one if that is near.
func svgLinearTicks(lo, hi float64, format func(float64) string) (float64, float64, []Tick) {
	step := svgNiceStep((hi - lo) / 5)
	lo = math.Floor(lo/step) * step
	// The axis ends on a round tick unless that is far past the data (a
	// 15.03 s run would get an axis to 20 s).
	if up := math.Ceil(hi/step) * step; up-hi <= step/4 {
		hi = up
	}
	var ticks []Tick
	for i := 0; i <= 12; i++ {
		v := lo + float64(i)*step
		if v > hi+step*1e-9 {
			break
		}
		if math.Abs(v) < step/1e6 {
			v = 0 // no "-0" from rounding
		}
		ticks = append(ticks, Tick{v, format(v)})
	}
	return lo, hi, ticks
}

// svgLogTicks widens the range to 1, 2 or 5 times a power of ten and puts
// ticks on the decades within, with 2× and 5× between them when the range
// spans few decades.
func svgLogTicks(lo, hi float64, format func(float64) string) (float64, float64, []Tick) {
	lo, hi = svgLogFloor(lo), svgLogCeil(hi)
	if hi <= lo {
		hi = svgLogCeil(lo * 1.01)
	}
	decades := math.Log10(hi / lo)
	// Very wide ranges keep every other decade, so labels do not collide.
	every := math.Max(1, math.Ceil(decades/8))
	var ticks []Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e += every {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if (m == 1 || decades <= 3) && v >= lo*0.999 && v <= hi*1.001 {
				ticks = append(ticks, Tick{v, format(v)})
			}
		}
	}
	return lo, hi, ticks
}

// svgLogFloor is the largest 1, 2 or 5 × 10^k at or below v.
func svgLogFloor(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2, 1} {
		if m*d <= v*1.000001 {
			return m * d
		}
	}
	return d
}

// svgLogCeil is the smallest 1, 2 or 5 × 10^k at or above v.
func svgLogCeil(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*d >= v*0.999999 {
			return m * d
		}
	}
	return 10 * d
}

// Number formats a tick value briefly: 0.5, 20, 1.5k, 2M.
func Number(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return Trim(v/1e6) + "M"
	case a >= 1e3:
		return Trim(v/1e3) + "k"
	}
	return Trim(v)
}

// Trim prints v with up to three significant digits and no trailing
// zeros.
func Trim(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// pos maps v onto [p0, p1] along a.
func (a *Axis) pos(v, p0, p1 float64) float64 {
	t := func(v float64) float64 { return v }
	if a.Scale == Log {
		t = func(v float64) float64 { return math.Log10(math.Max(v, a.Min)) }
	}
	lo, hi := t(a.Min), t(a.Max)
	f := (t(v) - lo) / (hi - lo)
	if math.IsNaN(f) {
		f = 0
	}
	f = math.Max(-0.02, math.Min(1.02, f)) // out-of-range values stay at the edge
	return p0 + f*(p1-p0)
}

func (c *Chart) px(f svgFrame, v float64) float64 { return c.X.pos(v, f.x0, f.x1) }
func (c *Chart) py(f svgFrame, v float64) float64 { return c.Y.pos(v, f.y1, f.y0) }

func (c *Chart) drawGrid(b *svgBuf, f svgFrame) {
	b.WriteString(`<g class="grid">`)
	for _, t := range c.Y.Ticks {
		y := c.py(f, t.V)
		b.WriteString(`<line class="gridline"`)
		b.attrNum("x1", f.x0)
		b.attrNum("x2", f.x1)
		b.attrNum("y1", y)
		b.attrNum("y2", y)
		b.WriteString("/>")
		b.text(f.x0-6, y+4, "tick", "end", t.Label)
	}
	if c.Bars == nil {
		for _, t := range c.X.Ticks {
			x := c.px(f, t.V)
			b.WriteString(`<line class="gridline"`)
			b.attrNum("x1", x)
			b.attrNum("x2", x)
			b.attrNum("y1", f.y0)
			b.attrNum("y2", f.y1)
			b.WriteString("/>")
			b.text(x, f.y1+16, "tick", "middle", t.Label)
		}
	}
	b.WriteString("</g>")
}

// drawSeries draws series i as a path (and its markers).
func (c *Chart) drawSeries(b *svgBuf, f svgFrame, i int) {
	s := &c.Series[i]
	var d strings.Builder
	var pts []Point
	for _, p := range s.Points {
		if Finite(p.X) && Finite(p.Y) {
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 {
		return
	}
	// A lone value gets a marker: a path of one point draws nothing.
	marks := s.Marks || len(pts) == 1
	b.WriteString(`<g class="series"`)
	b.attr("data-series", s.Name)
	b.WriteString("><title>" + svgEscape(s.Name) + "</title>") // shown on hover
	if len(pts) > 1 {
		for j, p := range pts {
			x, y := svgCoord(c.px(f, p.X)), svgCoord(c.py(f, p.Y))
			switch {
			case j == 0:
				d.WriteString("M" + x + " " + y)
			case s.Step:
				d.WriteString("H" + x + "V" + y)
			default:
				d.WriteString("L" + x + " " + y)
			}
		}
		b.WriteString(`<path class="data line" fill="none" stroke-width="2" stroke-linejoin="round"`)
		b.attr("stroke", svgColor(i))
		if dash := svgDash(i); dash != "" {
			b.attr("stroke-dasharray", dash)
		}
		b.attr("d", d.String())
		b.WriteString("/>")
	}
	if marks {
		for _, p := range pts {
			b.WriteString(`<circle class="data mark" r="4" stroke-width="2"`)
			b.attrNum("cx", c.px(f, p.X))
			b.attrNum("cy", c.py(f, p.Y))
			b.attr("stroke", svgColor(i))
			if p.Bad {
				b.attr("fill", "#ffffff")
			} else {
				b.attr("fill", svgColor(i))
			}
			b.WriteString("/>")
		}
	}
	b.WriteString("</g>")
}

func svgCoord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// drawBars draws grouped bars, category labels under each group.
func (c *Chart) drawBars(b *svgBuf, f svgFrame) {
	bars := c.Bars
	n := len(bars.Categories)
	if n == 0 || len(bars.Values) == 0 {
		return
	}
	groupW := (f.x1 - f.x0) / float64(n)
	barW := groupW * 0.8 / float64(len(bars.Values))
	maxChars := int(groupW / svgCharPx)
	for k, name := range bars.Categories {
		gx := f.x0 + float64(k)*groupW
		b.text(gx+groupW/2, f.y1+16, "tick", "middle", wrap.Clip(name, max(maxChars-1, 3)))
		for i, vs := range bars.Values {
			if k >= len(vs) || !Finite(vs[k]) {
				continue
			}
			x := gx + groupW*0.1 + float64(i)*barW
			y := c.py(f, vs[k])
			b.WriteString(`<rect class="data bar"`)
			b.attr("data-series", c.seriesName(i))
			b.attrNum("x", x+1)
			b.attrNum("y", y)
			b.attrNum("width", math.Max(barW-2, 1))
			b.attrNum("height", math.Max(f.y1-y, 0))
			b.attr("fill", svgColor(i))
			b.WriteString("/>")
			if i < len(bars.Labels) && k < len(bars.Labels[i]) && barW >= 18 {
				b.text(x+barW/2, y-4, "bar-label", "middle", bars.Labels[i][k])
			}
		}
	}
}

func (c *Chart) seriesName(i int) string {
	if i < len(c.Series) {
		return c.Series[i].Name
	}
	return ""
}

func (c *Chart) drawRules(b *svgBuf, f svgFrame) {
	for _, r := range c.Rules {
		if !Finite(r.V) {
			continue
		}
		color := "#444444"
		if r.Series >= 0 {
			color = svgColor(r.Series)
		}
		b.WriteString(`<g class="rule">`)
		b.WriteString(`<line stroke-width="1.5" stroke-dasharray="5 4"`)
		b.attr("stroke", color)
		if r.Vertical {
			x := c.px(f, r.V)
			b.attrNum("x1", x)
			b.attrNum("x2", x)
			b.attrNum("y1", f.y0)
			b.attrNum("y2", f.y1)
			b.WriteString("/>")
			b.WriteString(`<text class="rule-label" text-anchor="end"`)
			b.attr("fill", color)
			b.WriteString(` transform="translate(`)
			b.num(x - 4)
			b.WriteString(" ")
			b.num(f.y0 + 4)
			b.WriteString(`) rotate(-90)">` + svgEscape(r.Label) + "</text>")
		} else {
			y := c.py(f, r.V)
			b.attrNum("x1", f.x0)
			b.attrNum("x2", f.x1)
			b.attrNum("y1", y)
			b.attrNum("y2", y)
			b.WriteString("/>")
			b.WriteString(`<text class="rule-label" text-anchor="end"`)
			b.attr("fill", color)
			b.attrNum("x", f.x1-4)
			b.attrNum("y", y-5)
			b.WriteString(">" + svgEscape(r.Label) + "</text>")
		}
		b.WriteString("</g>")
	}
}

// svgLegendEntry is one legend item and where it goes.
type svgLegendEntry struct {
	name string
	row  int
	x    float64
}

// legendLayout places one entry per series in rows under the plot.
func (c *Chart) legendLayout() []svgLegendEntry {
	var out []svgLegendEntry
	x, row := float64(svgLeft), 0
	for _, s := range c.Series {
		name := wrap.Clip(s.Name, 60)
		w := 30 + svgCharPx*float64(len([]rune(name))) + 18
		if x+w > svgWidth-svgRight && x > svgLeft {
			x, row = svgLeft, row+1
		}
		out = append(out, svgLegendEntry{name, row, x})
		x += w
	}
	return out
}

func (c *Chart) drawLegend(b *svgBuf, f svgFrame, entries []svgLegendEntry) {
	if len(entries) == 0 {
		return
	}
	b.WriteString(`<g class="legend">`)
	for i, e := range entries {
		y := f.y1 + svgAxisRoom + float64(e.row*svgLegendRow) + 10
		if c.Bars != nil {
			b.WriteString(`<rect width="22" height="10"`)
			b.attrNum("x", e.x)
			b.attrNum("y", y-5)
			b.attr("fill", svgColor(i))
			b.WriteString("/>")
		} else {
			b.WriteString(`<line stroke-width="2.5"`)
			b.attrNum("x1", e.x)
			b.attrNum("x2", e.x+24)
			b.attrNum("y1", y)
			b.attrNum("y2", y)
			b.attr("stroke", svgColor(i))
			if dash := svgDash(i); dash != "" {
				b.attr("stroke-dasharray", dash)
			}
			b.WriteString("/>")
		}
		b.text(e.x+30, y+4, "legend-label", "start", e.name)
	}
	b.WriteString("</g>")
}
