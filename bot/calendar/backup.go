package calendar

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/text"
)

// BackupPolicy is how Klaxon backs up its own database.
type BackupPolicy struct {
	Dir        string         // where snapshots go; "" turns scheduled backups off
	Retention  time.Duration  // snapshots older than this are deleted (the newest is always kept); default 30 days
	Snapshot   string         // cron of the snapshot; default daily 03:00
	Verify     string         // cron of the verification of the newest snapshot; default Sundays 04:00
	Location   *time.Location // zone of the schedules
	OpsChannel string         // failures are posted here
	Mentions   bot.Mentions   // who failure posts ping
	Grace      time.Duration  // how late a run missed while down may still run; default 24h
}

// Backup defaults.
const (
	DefaultBackupRetention = 30 * 24 * time.Hour
	DefaultBackupSchedule  = "0 3 * * *"
	DefaultVerifySchedule  = "0 4 * * SUN"
)

// BackupInfo describes one snapshot: its file and its manifest.
type BackupInfo struct {
	Path      string
	CreatedAt time.Time
	Size      int64
	SHA256    string
	Tables    map[string]int64 // rows per table when the snapshot was taken
}

// BackupCheck is the result of verifying a snapshot: integrity check, row
// counts and checksum against its manifest.
type BackupCheck struct {
	Path     string
	Tables   map[string]int64
	Problems []string // empty when the snapshot is good
}

// OK reports whether the snapshot passed every check.
func (c BackupCheck) OK() bool { return len(c.Problems) == 0 }

// Backuper takes and checks snapshots of the database (store.DB implements it).
type Backuper interface {
	// Backup writes a consistent snapshot of the live database into dir
	// and checks its row counts against the live ones.
	Backup(ctx context.Context, dir string, now time.Time) (BackupInfo, error)
	// VerifyBackup opens a snapshot read-only, runs the integrity check and
	// compares row counts and checksum with its manifest.
	VerifyBackup(ctx context.Context, path string) (BackupCheck, error)
	// Backups lists the snapshots in dir, newest first.
	Backups(dir string) ([]BackupInfo, error)
	// RemoveBackup deletes a snapshot and its manifest.
	RemoveBackup(path string) error
}

// Backups is the engine job that snapshots, prunes and verifies the
// database on schedule; failures are posted to the ops channel.
type Backups struct {
	Store    bot.TxStore[Tx]
	Backuper Backuper
	Policy   BackupPolicy
	Log      *slog.Logger
}

var _ bot.Job = (*Backups)(nil)

// Name implements Job.
func (b *Backups) Name() string { return "backups" }

func (b *Backups) log() *slog.Logger { return bot.OrDiscard(b.Log) }

func (b *Backups) schedule(job, expr, def string) (calendarSchedule, error) {
	if expr == "" {
		expr = def
	}
	tz := ""
	if b.Policy.Location != nil {
		tz = b.Policy.Location.String()
	}
	c, err := bot.ParseCron(expr, tz)
	if err != nil {
		return calendarSchedule{}, err
	}
	grace := b.Policy.Grace
	if grace <= 0 {
		grace = 24 * time.Hour
	}
	return calendarSchedule{job: job, cron: c, grace: grace, log: b.log()}, nil
}

// claim records the due run of s at now and reports whether it is to be
// done now. The run is recorded before the work: a crash during a backup
// loses that run rather than repeating it.
func (b *Backups) claim(ctx context.Context, s calendarSchedule, now time.Time) (time.Time, bool, error) {
	var p RunPlan
	var fresh bool
	err := b.Store.Update(ctx, func(tx Tx) (err error) {
		p, fresh, err = s.commit(tx, now)
		return err
	})
	return p.Fire, fresh && !p.Fire.IsZero(), err
}

// Run implements Job.
func (b *Backups) Run(ctx context.Context, now time.Time) error {
	if b.Policy.Dir == "" || b.Backuper == nil {
		return nil
	}
	snap, err := b.schedule("backup:snapshot", b.Policy.Snapshot, DefaultBackupSchedule)
	if err != nil {
		return err
	}
	verify, err := b.schedule("backup:verify", b.Policy.Verify, DefaultVerifySchedule)
	if err != nil {
		return err
	}
	if at, due, err := b.claim(ctx, snap, now); err != nil {
		return err
	} else if due {
		if err := b.snapshot(ctx, at, now); err != nil {
			return err
		}
	}
	if at, due, err := b.claim(ctx, verify, now); err != nil {
		return err
	} else if due {
		if err := b.verify(ctx, at, now); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backups) snapshot(ctx context.Context, at, now time.Time) error {
	info, err := b.Backuper.Backup(ctx, b.Policy.Dir, now)
	if err != nil {
		b.log().Error("database backup failed", "dir", b.Policy.Dir, "err", err)
		return b.fail(ctx, now, "backup:snapshot", at, "Database backup failed",
			fmt.Sprintf("The scheduled snapshot into `%s` failed: %s", b.Policy.Dir, text.Truncate(err.Error(), 1500)))
	}
	b.log().Info("database backed up", "file", info.Path, "bytes", info.Size)
	removed, err := b.prune(now)
	if err != nil {
		b.log().Error("pruning old backups failed", "dir", b.Policy.Dir, "err", err)
		return b.fail(ctx, now, "backup:prune", at, "Pruning old backups failed",
			fmt.Sprintf("Deleting snapshots older than %s from `%s` failed: %s", FormatDuration(b.retention()), b.Policy.Dir, text.Truncate(err.Error(), 1500)))
	}
	if len(removed) > 0 {
		b.log().Info("old backups deleted", "files", removed)
	}
	return nil
}

func (b *Backups) retention() time.Duration {
	if b.Policy.Retention > 0 {
		return b.Policy.Retention
	}
	return DefaultBackupRetention
}

// prune deletes snapshots older than the retention, always keeping the newest.
func (b *Backups) prune(now time.Time) ([]string, error) {
	list, err := b.Backuper.Backups(b.Policy.Dir)
	if err != nil {
		return nil, err
	}
	cutoff := now.Add(-b.retention())
	var removed []string
	for i, info := range list {
		if i == 0 || !info.CreatedAt.Before(cutoff) {
			continue
		}
		if err := b.Backuper.RemoveBackup(info.Path); err != nil {
			return removed, err
		}
		removed = append(removed, info.Path)
	}
	return removed, nil
}

func (b *Backups) verify(ctx context.Context, at, now time.Time) error {
	list, err := b.Backuper.Backups(b.Policy.Dir)
	if err != nil {
		return b.fail(ctx, now, "backup:verify", at, "Backup verification failed",
			fmt.Sprintf("Listing the snapshots in `%s` failed: %s", b.Policy.Dir, text.Truncate(err.Error(), 1500)))
	}
	if len(list) == 0 {
		return b.fail(ctx, now, "backup:verify", at, "Backup verification failed",
			fmt.Sprintf("There is no snapshot in `%s` to verify: check that scheduled backups run (`klaxon backup` takes one now).", b.Policy.Dir))
	}
	newest := list[0]
	check, err := b.Backuper.VerifyBackup(ctx, newest.Path)
	if err == nil && check.OK() {
		b.log().Info("database backup verified", "file", newest.Path, "tables", len(check.Tables))
		return nil
	}
	why := ""
	if err != nil {
		why = err.Error()
	} else {
		why = strings.Join(check.Problems, "\n")
	}
	b.log().Error("database backup verification failed", "file", newest.Path, "problems", why)
	return b.fail(ctx, now, "backup:verify", at, "Backup verification failed",
		fmt.Sprintf("The newest snapshot `%s` (taken %s) failed verification:\n%s\nTake a new one with `klaxon backup` and check the disk.",
			newest.Path, newest.CreatedAt.UTC().Format(time.RFC3339), text.Truncate(why, 1200)))
}

// fail queues a failure message to the ops channel.
func (b *Backups) fail(ctx context.Context, now time.Time, job string, at time.Time, title, desc string) error {
	if b.Policy.OpsChannel == "" {
		return fmt.Errorf("%s: %s (no ops channel configured to tell)", title, desc)
	}
	content := strings.TrimSpace(bot.MentionPrefix(b.Policy.Mentions) + "💾 **" + title + "**")
	return b.Store.Update(ctx, func(tx Tx) error {
		return tx.Enqueue(&bot.Outgoing{ChannelID: b.Policy.OpsChannel, Priority: bot.P1, Kind: "backup", Ref: fmt.Sprintf("%s:%d", job, at.Unix()),
			Message: bot.Message{Content: content, Mentions: b.Policy.Mentions, Title: title, Description: desc, Tone: bot.ToneAlarm,
				Footer: "Klaxon backups of its own database"}, DueAt: now, CreatedAt: now})
	})
}
