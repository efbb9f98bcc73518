package store_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/store"
)

// The default keeps `go test -run '^$' -bench . -benchtime=1x ./...` quick;
// the figure that matters is taken with -backup.size=200.
var (
	backupSizeMiB = flag.Int("backup.size", 8, "size in MiB of the database BenchmarkBackupWriteStall backs up")
	backupBenchIn = flag.String("backup.dir", "", "directory for BenchmarkBackupWriteStall's files (default: a temporary directory); put it on the disk you care about")
)

// BenchmarkBackupWriteStall backs up a database of -backup.size MiB while a
// steady writer commits one small write about every millisecond through
// Update, as webhooks and acknowledgements do, and reports how long the
// writes took while the backup ran: the longest (max_stall_ms), the 99th
// percentile (p99_ms), how many there were and how many failed, and the
// backup's own duration (backup_s) and size (MiB).
//
//	go test ./store -run '^$' -bench BackupWriteStall -backup.size=200
func BenchmarkBackupWriteStall(b *testing.B) {
	ctx := context.Background()
	base := *backupBenchIn
	if base == "" {
		base = b.TempDir()
	} else {
		d, err := os.MkdirTemp(base, "klaxon-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(d) })
		base = d
	}
	path := filepath.Join(base, "k.db")
	buildBackupBenchDB(b, path, int64(*backupSizeMiB)<<20)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	backups := filepath.Join(base, "backups")

	// The same writer without a backup first: what a write costs here anyway.
	w := startSteadyWriter(db, 1000)
	<-w.done
	idle, _ := w.stop()

	var (
		lat      []time.Duration // every write that overlapped a backup
		failed   int
		total    time.Duration
		n        int
		backedUp int64
	)
	for b.Loop() {
		n++
		w := startSteadyWriter(db, 0)
		t0 := time.Now()
		info, err := db.Backup(ctx, backups, now)
		d := time.Since(t0)
		mine, errs := w.stop() // a write held up by the backup finishes here and is counted
		if err != nil {
			b.Fatal(err)
		}
		total += d
		backedUp = info.Size
		lat = append(lat, mine...)
		failed += errs
		if err := store.RemoveBackup(info.Path); err != nil {
			b.Fatal(err)
		}
	}
	if len(lat) == 0 || len(idle) == 0 {
		b.Fatal("no write ran")
	}
	slices.Sort(lat)
	slices.Sort(idle)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	p99 := func(l []time.Duration) time.Duration { return l[(len(l)*99)/100] }
	b.ReportMetric(ms(lat[len(lat)-1]), "max_stall_ms")
	b.ReportMetric(ms(p99(lat)), "p99_ms")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50_ms")
	b.ReportMetric(ms(idle[len(idle)-1]), "idle_max_ms")
	b.ReportMetric(ms(p99(idle)), "idle_p99_ms")
	b.ReportMetric(float64(len(lat))/float64(n), "writes/op")
	b.ReportMetric(float64(failed), "write_errors")
	b.ReportMetric((total / time.Duration(n)).Seconds(), "backup_s")
	b.ReportMetric(float64(backedUp)/(1<<20), "MiB")
	b.Logf("database %.1f MiB, snapshot %.1f MiB, %d writes during %d backup(s), %d without", float64(fi.Size())/(1<<20), float64(backedUp)/(1<<20), len(lat), n, len(idle))
}

// steadyWriter commits one small write (a new alert group, as a webhook
// does) through Update about every millisecond and times each.
type steadyWriter struct {
	halt, done chan struct{}
	lat        []time.Duration
	errs       int
}

var steadySeq atomic.Int64

// startSteadyWriter starts a writer and returns once its first write, which
// is not counted, committed. It stops by itself after limit writes (done is
// closed) when limit > 0.
func startSteadyWriter(db *store.DB, limit int) *steadyWriter {
	w := &steadyWriter{halt: make(chan struct{}), done: make(chan struct{})}
	started := make(chan struct{})
	go func() {
		defer close(w.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; limit <= 0 || i <= limit; i++ {
			t0 := time.Now()
			key := fmt.Sprintf("steady-%d", steadySeq.Add(1))
			err := db.Update(context.Background(), func(tx bot.Tx) error {
				return tx.SaveGroup(&bot.Group{Key: key, Receiver: "bench", Status: bot.Firing, Priority: bot.P2, CreatedAt: t0, UpdatedAt: t0,
					Alerts: []bot.Alert{{Fingerprint: "f", Status: bot.Firing, StartsAt: t0}}})
			})
			if i == 0 {
				close(started)
			} else {
				w.lat = append(w.lat, time.Since(t0))
				if err != nil {
					w.errs++
				}
			}
			select {
			case <-w.halt:
				return
			case <-tick.C:
			}
		}
	}()
	<-started
	return w
}

// stop stops the writer, waiting for the write under way, and returns the
// latencies of the counted writes and how many failed.
func (w *steadyWriter) stop() ([]time.Duration, int) {
	close(w.halt)
	<-w.done
	return w.lat, w.errs
}

// buildBackupBenchDB fills a new database with about size bytes of alert
// groups, each with a few alerts carrying a few KiB of random annotation
// text, in large transactions, and closes it (which checkpoints the WAL).
func buildBackupBenchDB(b *testing.B, path string, size int64) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const alertsPer, textBytes, perTx = 4, 3000, 200
	raw := make([]byte, textBytes*3/4)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	perGroup := int64(alertsPer * (textBytes + 1180))
	groups := int(size/perGroup) + 1
	for done := 0; done < groups; {
		err := db.Update(ctx, func(tx bot.Tx) error {
			for i := 0; i < perTx && done < groups; i, done = i+1, done+1 {
				at := now.Add(time.Duration(done) * time.Minute)
				g := &bot.Group{Key: fmt.Sprintf(`{}:{alertname="Load%d"}`, done%500), Receiver: "oncall", Status: bot.Resolved, Priority: bot.Priority(done % 4),
					GroupLabels: map[string]string{"alertname": fmt.Sprintf("Load%d", done%500)}, CreatedAt: at, UpdatedAt: at, ResolvedAt: at.Add(time.Hour), Version: 3}
				for a := range alertsPer {
					rand.Read(raw)
					g.Alerts = append(g.Alerts, bot.Alert{Fingerprint: fmt.Sprintf("%016x", done*alertsPer+a), Status: bot.Resolved,
						Labels:      map[string]string{"alertname": fmt.Sprintf("Load%d", done%500), "instance": fmt.Sprintf("web-%d:9100", a), "severity": "page"},
						Annotations: map[string]string{"summary": "load is high", "description": base64.StdEncoding.EncodeToString(raw)},
						StartsAt:    at, EndsAt: at.Add(time.Hour), GeneratorURL: "http://prometheus:9090/graph?g0.expr=load"})
				}
				if err := tx.SaveGroup(g); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
