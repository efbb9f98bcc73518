//go:build !demo

package main

import (
	"context"
	"fmt"
	"io"
)

// demoHint is what `klaxon demo` says in a binary built without the demo.
const demoHint = "klaxon demo is not in this build (the production binary leaves out the fake Discord and its API spec); run it from the source tree: go run -tags demo ./cmd/klaxon demo"

// demoCmd, in a binary built without the demo build tag, points to the one
// that has it.
func demoCmd(_ context.Context, _ []string, _ func(string) string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, demoHint)
	return 2
}
