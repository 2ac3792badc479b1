// Package wrap lays text out in lines of a width, for the terminal
// (`run --list`), the text report and the SVG charts' labels.
package wrap

// Words joins words into lines of at most width characters; a word
// longer than width stands alone on its line.
func Words(words []string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range words {
		if cur != "" && len(cur)+1+len(w) > width {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// Clip cuts s to n runes, marking the cut with "…".
func Clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
