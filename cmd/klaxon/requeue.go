package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/store"
)

// requeueCmd makes every dead letter (an outbound item Discord refused for
// good) due again, in KLAXON_DB. Safe while serve runs: it picks them up
// within a dispatch tick.
func requeueCmd(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	path := getenv("KLAXON_DB")
	if path == "" {
		path = "klaxon.db"
	}
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(stderr, "requeue: %v (set KLAXON_DB to Klaxon's database)\n", err)
		return 1
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		fmt.Fprintf(stderr, "requeue: %v\n", err)
		return 1
	}
	defer db.Close()
	var n int
	if err := db.Update(ctx, func(tx bot.Tx) (err error) { n, err = tx.RequeueDead(time.Now()); return err }); err != nil {
		fmt.Fprintf(stderr, "requeue: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d dead letter(s) requeued\n", n)
	return 0
}
