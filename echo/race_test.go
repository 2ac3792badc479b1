//go:build race

package echo

// The race detector keeps shadow memory for every allocation, which
// multiplies a process's resident memory.
const raceEnabled = true
