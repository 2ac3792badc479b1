// Package charttest reads back the SVG that package chart draws, for the
// tests of chart and of the reports that embed its charts.
package charttest

import (
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// Stats is what an <svg> element draws.
type Stats struct {
	Data   int      // elements of class "data"
	Title  string   // the <title>
	Legend []string // legend labels
	Texts  []string
}

// Parse checks that s is well-formed XML and counts what it draws.
func Parse(t testing.TB, s string) Stats {
	t.Helper()
	var st Stats
	d := xml.NewDecoder(strings.NewReader(s))
	var stack []string
	var class string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			class = ""
			for _, a := range tok.Attr {
				if a.Name.Local == "class" {
					class = a.Value
					if slices.Contains(strings.Fields(a.Value), "data") {
						st.Data++
					}
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			text := string(tok)
			switch {
			case len(stack) > 0 && stack[len(stack)-1] == "title" && st.Title == "":
				st.Title = text // the chart's; series have their own
			case class == "legend-label":
				st.Legend = append(st.Legend, text)
			}
			st.Texts = append(st.Texts, text)
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements %v", stack)
	}
	return st
}
