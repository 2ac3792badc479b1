// Package typo proposes the known word a misspelt one was meant to be,
// for error messages ("did you mean duration?").
package typo

import (
	"fmt"
	"strings"
)

// Hint suggests the closest known word, or lists them all.
func Hint(got string, known []string) string {
	if s := Closest(got, known); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
}

// DidYouMean suggests the closest known word, if any is close; for messages
// that list the choices already.
func DidYouMean(got string, known []string) string {
	if s := Closest(got, known); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

// Closest returns the known word closest to got when it is close enough to
// be a typo: an edit distance of at most 2, or a third of its length.
func Closest(got string, known []string) string {
	best, bestD := "", max(2, len(got)/3)+1
	for _, k := range known {
		if d := editDistance(strings.ToLower(got), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // nothing that long is a typo of a key
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
