package balance_test

import (
	"fmt"
	"time"

	"github.com/wsbench/wsbench/proxy/balance"
)

// Weighted round robin spreads picks smoothly, as nginx does: weights 5, 1, 1
// never send the heavy peer five in a row.
func ExampleGroup_Pick() {
	g, _ := balance.New(balance.RoundRobin, []balance.Peer{
		{Addr: "a", Weight: 5}, {Addr: "b", Weight: 1}, {Addr: "c", Weight: 1},
	})
	for k := 0; k < 7; k++ {
		i, _ := g.Pick(balance.Request{}, nil, time.Now())
		fmt.Print(g.Addr(i), " ")
		g.Release(i)
	}
	fmt.Println()
	// Output: a a b a c a a
}
