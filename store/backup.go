package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/metrics"
)

// Snapshots are klaxon-<UTC time>.db files, each with a JSON manifest next
// to it (<file>.json) recording its checksum and the row count of every
// table of the live database when it was taken.

var _ calendar.Backuper = (*DB)(nil)

var backupNameRE = regexp.MustCompile(`^klaxon-(\d{8}T\d{6}Z)(-\d+)?\.db$`)

const backupTimeLayout = "20060102T150405Z"

// Manifest describes a snapshot.
type Manifest struct {
	Format        int              `json:"format"`
	CreatedAt     time.Time        `json:"created_at"`
	Source        string           `json:"source"`
	Size          int64            `json:"size"`
	SHA256        string           `json:"sha256"`
	SchemaVersion int              `json:"schema_version"`
	Tables        map[string]int64 `json:"tables"`
}

// ManifestPath is where a snapshot's manifest lives.
func ManifestPath(backup string) string { return backup + ".json" }

// Backup implements calendar.Backuper: a consistent online snapshot that does
// not stop writers. See snapshot.
func (db *DB) Backup(ctx context.Context, dir string, now time.Time) (calendar.BackupInfo, error) {
	return snapshot(ctx, db.metrics, db.path, dir, now)
}

// BackupFile snapshots the database at dbPath (which a running Klaxon may
// be using) into dir, without migrating it: `klaxon backup`.
func BackupFile(ctx context.Context, dbPath, dir string, now time.Time) (calendar.BackupInfo, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return calendar.BackupInfo{}, bot.WrapError(bot.ENotFound, err, "database %s does not exist (set KLAXON_DB to its path)", dbPath)
	}
	return snapshot(ctx, nil, dbPath, dir, now)
}

// backupPagesPerStep is how many pages one sqlite3_backup_step copies (1
// MiB with 4 KiB pages). After each step the copy is flushed to disk and
// ctx is looked at; a step holds no lock that writers wait for.
var backupPagesPerStep = 256

// Test hooks: testHookBackupStep is called between the steps of a copy with
// the pages copied so far and the total; testHookBackupLockBusy when a
// backup finds another one running into the same directory and waits.
var (
	testHookBackupStep     func(copied, total int)
	testHookBackupLockBusy func()
)

// backupLockName is the lock file in the backup directory that keeps two
// backups into it (the daily job and `klaxon backup`, say) from running at
// once; the second waits for the first.
const backupLockName = ".klaxon-backup.lock"

// snapshot copies the database at source into a new klaxon-<time>.db in
// dir with SQLite's online backup API, from a connection of its own that
// holds one read transaction over the row counts and the whole copy. The
// copy is therefore exactly the snapshot that was counted, and since the
// database is in WAL mode the read transaction never blocks a writer: the
// bot keeps committing while the pages are copied. The file (mode 0600) is
// written as <name>.tmp, synced, opened read-only and checked (integrity,
// foreign keys, row counts against the live ones) before its manifest is
// written and it is renamed into place.
func snapshot(ctx context.Context, m *metrics.Metrics, source, dir string, now time.Time) (calendar.BackupInfo, error) {
	if dir == "" {
		return calendar.BackupInfo{}, bot.Errorf(bot.EInvalid, "no backup directory: set backups.dir in the configuration or pass --dir DIR")
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return calendar.BackupInfo{}, fmt.Errorf("create backup directory: %w", err)
	}
	unlock, err := lockBackupDir(ctx, dir)
	if err != nil {
		return calendar.BackupInfo{}, err
	}
	defer unlock()
	final := filepath.Join(dir, "klaxon-"+now.UTC().Format(backupTimeLayout)+".db")
	for i := 2; exists(final) || exists(ManifestPath(final)); i++ {
		final = filepath.Join(dir, fmt.Sprintf("klaxon-%s-%d.db", now.UTC().Format(backupTimeLayout), i))
	}
	tmp := final + ".tmp"
	removeTmp := func() {
		for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
			_ = os.Remove(tmp + suffix)
		}
	}
	removeTmp()
	defer removeTmp()

	live, version, err := copyDatabase(ctx, m, source, tmp)
	if err != nil {
		return calendar.BackupInfo{}, err
	}
	if err := syncFile(tmp); err != nil {
		return calendar.BackupInfo{}, fmt.Errorf("backup: sync: %w", err)
	}
	copied, problems, err := inspect(ctx, m, tmp)
	if err != nil {
		return calendar.BackupInfo{}, err
	}
	problems = append(problems, compareCounts(live, copied, "the live database")...)
	if len(problems) > 0 {
		return calendar.BackupInfo{}, fmt.Errorf("backup: the copy does not match the database: %s", strings.Join(problems, "; "))
	}
	sum, size, err := hashFile(tmp)
	if err != nil {
		return calendar.BackupInfo{}, err
	}
	man := Manifest{Format: 1, CreatedAt: now.UTC(), Source: source, Size: size, SHA256: sum, SchemaVersion: version, Tables: live}
	if err := writeJSON(ManifestPath(final), man); err != nil {
		return calendar.BackupInfo{}, err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(ManifestPath(final))
		return calendar.BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	_ = syncDir(dir)
	return calendar.BackupInfo{Path: final, CreatedAt: man.CreatedAt, Size: size, SHA256: sum, Tables: live}, nil
}

// copyDatabase copies the database at source into the new file tmp and
// returns the row counts and schema version of the snapshot it copied.
//
// The read transaction is held from the counting to the last page, so
// every step reads the same snapshot: SQLite restarts a backup when the
// source changes between two steps that each take a read transaction of
// their own, which under a steady writer would never finish. The steps
// release nothing a writer waits for; between them the copy is flushed to
// disk and ctx may end it.
// The copy is left in rollback-journal mode, as VACUUM INTO left it, so
// that opening it read-only leaves no -wal or -shm file next to it.
func copyDatabase(ctx context.Context, m *metrics.Metrics, source, tmp string) (map[string]int64, int, error) {
	src, err := sql.Open("sqlite3", "file:"+source+"?_busy_timeout=10000")
	if err != nil {
		return nil, 0, err
	}
	defer src.Close()
	sc, err := src.Conn(ctx)
	if err != nil {
		return nil, 0, dbErrorIn(m, "backup: open the database", err)
	}
	defer sc.Close()
	if _, err := sc.ExecContext(ctx, "BEGIN"); err != nil { // deferred: a read transaction from the first read on
		return nil, 0, dbErrorIn(m, "backup: begin", err)
	}
	defer sc.ExecContext(context.Background(), "ROLLBACK")
	live, version, err := countConn(ctx, m, sc)
	if err != nil {
		return nil, 0, err
	}

	// Created here because SQLite would create it 0644. Kept open to flush
	// the copy to disk step by step: one fsync of the whole file at the end
	// held up the writer's fsyncs of the WAL (by about 200 ms for 200 MiB
	// on ext4 here). Closed only after SQLite's connection: closing a descriptor
	// drops the process's POSIX locks on the file.
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return nil, 0, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	dst, err := sql.Open("sqlite3", "file:"+tmp+"?_synchronous=OFF") // we sync it
	if err != nil {
		return nil, 0, err
	}
	defer dst.Close()
	dc, err := dst.Conn(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("backup: open %s: %w", tmp, err)
	}
	defer dc.Close()
	err = dc.Raw(func(d any) error {
		return sc.Raw(func(s any) error {
			return backupPages(ctx, d.(*sqlite3.SQLiteConn), s.(*sqlite3.SQLiteConn), f.Sync)
		})
	})
	if err != nil {
		return nil, 0, err
	}
	// Page 1 came from a WAL database and says so; make the copy an
	// ordinary rollback-journal database file.
	var mode string
	if err := dc.QueryRowContext(ctx, "PRAGMA journal_mode = DELETE").Scan(&mode); err != nil {
		return nil, 0, fmt.Errorf("backup: set the copy's journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "delete") {
		return nil, 0, fmt.Errorf("backup: the copy's journal mode is %q, want delete", mode)
	}
	if err := dc.Close(); err != nil {
		return nil, 0, fmt.Errorf("backup: close %s: %w", tmp, err)
	}
	if err := dst.Close(); err != nil {
		return nil, 0, fmt.Errorf("backup: close %s: %w", tmp, err)
	}
	return live, version, nil
}

// backupPages runs an online backup from src to dst, backupPagesPerStep
// pages at a time, calling flush after each step, until it is done or ctx
// ends.
func backupPages(ctx context.Context, dst, src *sqlite3.SQLiteConn, flush func() error) (err error) {
	bk, err := dst.Backup("main", src, "main")
	if err != nil {
		return fmt.Errorf("backup: start: %w", err)
	}
	defer func() {
		if ferr := bk.Finish(); ferr != nil && err == nil {
			err = fmt.Errorf("backup: finish: %w", ferr)
		}
	}()
	copied := 0
	for {
		if err := ctx.Err(); err != nil {
			return bot.WrapError(bot.EUnavailable, err, "backup interrupted")
		}
		done, err := bk.Step(backupPagesPerStep)
		if err != nil {
			return fmt.Errorf("backup: copy pages: %w", err)
		}
		if done {
			return nil
		}
		total := bk.PageCount()
		now := total - bk.Remaining()
		if now <= copied {
			// Step reports SQLITE_BUSY and SQLITE_LOCKED as "not done", and
			// a source changed under the copy restarts it. With the read
			// transaction held and a private destination neither should
			// happen; retrying at once would only spin.
			return bot.Errorf(bot.EUnavailable, "backup: the copy went from page %d to %d of %d: the database was busy or locked, or changed under the copy", copied, now, total)
		}
		copied = now
		if err := flush(); err != nil {
			return fmt.Errorf("backup: sync: %w", err)
		}
		if testHookBackupStep != nil {
			testHookBackupStep(copied, total)
		}
	}
}

// VerifyBackup implements calendar.Backuper.
func (db *DB) VerifyBackup(ctx context.Context, path string) (calendar.BackupCheck, error) {
	return verifyBackupFile(ctx, db.metrics, path, true)
}

// VerifyBackupFile checks a snapshot: it opens it read-only, runs PRAGMA
// integrity_check and foreign_key_check, checks Klaxon's tables are there
// and not from a newer Klaxon, and compares size, checksum and every
// table's row count with the manifest. Without a manifest the comparison is
// skipped unless requireManifest is set. Failed checks are Problems; err
// is for files that cannot be read at all.
func VerifyBackupFile(ctx context.Context, path string, requireManifest bool) (calendar.BackupCheck, error) {
	return verifyBackupFile(ctx, nil, path, requireManifest)
}

func verifyBackupFile(ctx context.Context, mx *metrics.Metrics, path string, requireManifest bool) (calendar.BackupCheck, error) {
	c := calendar.BackupCheck{Path: path}
	if _, err := os.Stat(path); err != nil {
		return c, bot.WrapError(bot.ENotFound, err, "backup %s cannot be read", path)
	}
	tables, problems, err := inspect(ctx, mx, path)
	if err != nil {
		return c, err
	}
	c.Tables, c.Problems = tables, problems
	m, err := ReadManifest(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if requireManifest {
			c.Problems = append(c.Problems, "no manifest "+filepath.Base(ManifestPath(path))+": row counts and checksum cannot be compared")
		}
		return c, nil
	case err != nil:
		c.Problems = append(c.Problems, "manifest unreadable: "+err.Error())
		return c, nil
	}
	sum, size, err := hashFile(path)
	if err != nil {
		return c, err
	}
	if size != m.Size {
		c.Problems = append(c.Problems, fmt.Sprintf("size is %d bytes, the manifest says %d", size, m.Size))
	}
	if sum != m.SHA256 {
		c.Problems = append(c.Problems, "checksum differs from the manifest: the file changed after it was written")
	}
	c.Problems = append(c.Problems, compareCounts(m.Tables, tables, "the manifest")...)
	return c, nil
}

// ReadManifest reads a snapshot's manifest.
func ReadManifest(backup string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(ManifestPath(backup))
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// Backups implements calendar.Backuper.
func (db *DB) Backups(dir string) ([]calendar.BackupInfo, error) { return ListBackups(dir) }

// ListBackups lists the snapshots in dir, newest first.
func ListBackups(dir string) ([]calendar.BackupInfo, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []calendar.BackupInfo
	for _, e := range entries {
		sm := backupNameRE.FindStringSubmatch(e.Name())
		if sm == nil || e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		info := calendar.BackupInfo{Path: p}
		if m, err := ReadManifest(p); err == nil {
			info.CreatedAt, info.Size, info.SHA256, info.Tables = m.CreatedAt, m.Size, m.SHA256, m.Tables
		} else {
			info.CreatedAt, _ = time.Parse(backupTimeLayout, sm[1])
			if fi, err := e.Info(); err == nil {
				info.Size = fi.Size()
			}
		}
		out = append(out, info)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].Path > out[j].Path
	})
	return out, nil
}

// RemoveBackup implements calendar.Backuper; it only deletes snapshot files.
func (db *DB) RemoveBackup(path string) error { return RemoveBackup(path) }

// RemoveBackup deletes a snapshot and its manifest.
func RemoveBackup(path string) error {
	if !backupNameRE.MatchString(filepath.Base(path)) {
		return fmt.Errorf("refusing to delete %s: not a Klaxon snapshot", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(ManifestPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// RestoreResult is what Restore did.
type RestoreResult struct {
	Check    calendar.BackupCheck
	Manifest bool   // row counts and checksum were compared with a manifest
	Previous string // where the replaced database was moved ("" when there was none)
}

// Restore replaces the database at dbPath with the snapshot from. It
// verifies the snapshot first, refuses (EConflict) while the database is in
// use — by a `klaxon serve` holding its lock file, or by any process with
// the database open — copies the snapshot next to the database, verifies the
// copy, and only then swaps it in, keeping the old database as
// <db>.pre-restore-<time>.
func Restore(ctx context.Context, from, dbPath string, now time.Time) (RestoreResult, error) {
	var res RestoreResult
	if a, b := absPath(from), absPath(dbPath); a == b {
		return res, bot.Errorf(bot.EInvalid, "the backup and the database are the same file %s", a)
	}
	_, manifestErr := ReadManifest(from)
	res.Manifest = manifestErr == nil
	check, err := VerifyBackupFile(ctx, from, false)
	res.Check = check
	if err != nil {
		return res, err
	}
	if !check.OK() {
		return res, bot.Errorf(bot.EInvalid, "backup %s failed verification, nothing was changed: %s", from, strings.Join(check.Problems, "; "))
	}
	unlock, err := LockDB(dbPath)
	if err != nil {
		return res, err
	}
	defer unlock()
	if err := CheckNotInUse(ctx, dbPath); err != nil {
		return res, err
	}
	dir := filepath.Dir(dbPath)
	tmp := dbPath + ".restore-tmp"
	_ = os.Remove(tmp)
	defer os.Remove(tmp)
	if err := ensureDir(dbPath); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	if err := copyFile(from, tmp, fileMode); err != nil {
		return res, fmt.Errorf("restore: copy %s: %w", from, err)
	}
	// Check the copy as it will be used, with the original's manifest.
	if res.Manifest {
		if err := copyFile(ManifestPath(from), ManifestPath(tmp), fileMode); err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
		defer os.Remove(ManifestPath(tmp))
	}
	if c, err := VerifyBackupFile(ctx, tmp, res.Manifest); err != nil {
		return res, err
	} else if !c.OK() {
		return res, fmt.Errorf("restore: the copy at %s failed verification, nothing was changed: %s", tmp, strings.Join(c.Problems, "; "))
	}
	if exists(dbPath) {
		res.Previous = dbPath + ".pre-restore-" + now.UTC().Format(backupTimeLayout)
		if err := os.Rename(dbPath, res.Previous); err != nil {
			return res, fmt.Errorf("restore: keep the old database: %w", err)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if exists(dbPath + suffix) {
				if err := os.Rename(dbPath+suffix, res.Previous+suffix); err != nil {
					return res, fmt.Errorf("restore: keep the old database's %s: %w", suffix, err)
				}
			}
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	_ = syncDir(dir)
	return res, nil
}

// CheckNotInUse returns an EConflict error when another connection — in
// this process or another — has the database open: it tries to take
// SQLite's exclusive lock without waiting.
func CheckNotInUse(ctx context.Context, dbPath string) error {
	if !exists(dbPath) {
		return nil
	}
	c, err := sql.Open("sqlite3", "file:"+dbPath+"?_locking_mode=EXCLUSIVE&_busy_timeout=0")
	if err != nil {
		return err
	}
	defer c.Close()
	conn, err := c.Conn(ctx)
	if err != nil {
		return inUse(dbPath, err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return inUse(dbPath, err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return inUse(dbPath, err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return inUse(dbPath, err)
	}
	// Fold any WAL into the file so that closing leaves one self-contained file.
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return inUse(dbPath, err)
	}
	return nil
}

func inUse(dbPath string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		return bot.WrapError(bot.EConflict, err, "database %s is in use (is `klaxon serve` running?): stop Klaxon before restoring", dbPath)
	}
	return fmt.Errorf("check whether %s is in use: %w", dbPath, err)
}

// countTables counts the rows of every table and reads the schema version.
func countTables(ctx context.Context, m *metrics.Metrics, c *sql.DB) (map[string]int64, int, error) {
	conn, err := c.Conn(ctx)
	if err != nil {
		return nil, 0, dbErrorIn(m, "count rows", err)
	}
	defer conn.Close()
	return countConn(ctx, m, conn)
}

// countConn is countTables on one connection, inside its transaction if it
// has one open.
func countConn(ctx context.Context, m *metrics.Metrics, conn *sql.Conn) (map[string]int64, int, error) {
	rows, err := conn.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		return nil, 0, dbErrorIn(m, "count rows", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, 0, dbErrorIn(m, "count rows", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, dbErrorIn(m, "count rows", err)
	}
	out := map[string]int64{}
	for _, n := range names {
		var k int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(n, `"`, `""`)+`"`).Scan(&k); err != nil {
			return nil, 0, dbErrorIn(m, "count rows of "+n, err)
		}
		out[n] = k
	}
	version := 0
	if _, ok := out["schema_migrations"]; ok {
		var v sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
			return nil, 0, dbErrorIn(m, "schema version", err)
		}
		version = int(v.Int64)
	}
	return out, version, nil
}

// inspect opens a database file read-only and checks it: integrity,
// foreign keys, Klaxon's tables, schema version. It returns the row counts.
func inspect(ctx context.Context, m *metrics.Metrics, path string) (map[string]int64, []string, error) {
	c, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	var problems []string
	rows, err := c.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, []string{"not a readable SQLite database: " + err.Error()}, nil
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if s != "ok" && len(problems) < 10 {
			problems = append(problems, "integrity check: "+s)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, []string{"integrity check failed: " + err.Error()}, nil
	}
	fk, err := c.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return nil, nil, err
	}
	nfk := 0
	for fk.Next() {
		nfk++
	}
	fk.Close()
	if nfk > 0 {
		problems = append(problems, fmt.Sprintf("foreign key check: %d row(s) refer to missing rows", nfk))
	}
	tables, version, err := countTables(ctx, m, c)
	if err != nil {
		return nil, append(problems, "counting rows failed: "+err.Error()), nil
	}
	for _, need := range []string{"schema_migrations", "alert_groups", "queue"} {
		if _, ok := tables[need]; !ok {
			problems = append(problems, "table "+need+" is missing: not a Klaxon database")
		}
	}
	if latest := latestMigration(); version > latest {
		problems = append(problems, fmt.Sprintf("schema version %d is newer than this Klaxon knows (%d): restore with the Klaxon version that made it", version, latest))
	}
	return tables, problems, nil
}

func latestMigration() int {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	latest := 0
	for _, n := range names {
		v, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(n, "migrations/"), "_", 2)[0])
		if err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

func compareCounts(want, got map[string]int64, what string) []string {
	var out []string
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g, ok := got[n]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("table %s is missing (%s has %d rows)", n, what, want[n]))
		case g != want[n]:
			out = append(out, fmt.Sprintf("table %s has %d rows, %s has %d", n, g, what, want[n]))
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			out = append(out, fmt.Sprintf("table %s is not in %s", n, what))
		}
	}
	return out
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), fileMode); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func copyFile(from, to string, mode fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return filepath.Clean(a)
	}
	return filepath.Clean(p)
}
