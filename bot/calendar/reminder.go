package calendar

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
	_ "time/tzdata" // reminders name IANA zones; work where the system has no zoneinfo

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
)

// Tx is what the SRE calendar does inside a transaction: the core's
// operations, the incidents' (reports and SLOs read incidents and their
// measures) and its own: reminders, the built-in schedules of reports and
// backups, SLO budget warnings and the record reports read.
type Tx interface {
	incident.Tx
	ReminderTx
	SLOTx
}

// RunPlan is what to do about a schedule whose stored next run is due.
type RunPlan struct {
	Fire        time.Time // the run to fire now; zero for none
	Skipped     int       // due runs that will not fire
	SkipFrom    time.Time // the first skipped run
	SkipTo      time.Time // the last skipped run
	Next        time.Time // the first run after now; zero when the schedule ends
	CatchingUp  bool      // Fire is a run missed by downtime, fired late within grace
	StoredNext  time.Time // the stored next run the plan started from
	MissedCount int       // due runs in all (Skipped plus one if Fire is set)
}

// maxCatchUp bounds how many missed runs a plan walks through.
const maxCatchUp = 200000

// PlanRuns decides what happens to a schedule whose stored next run is
// nextAt, at now: of the runs due (nextAt and every later one up to now)
// only the latest may fire, and only when it is at most grace old; every
// other one is skipped. Firing exactly the plan and storing plan.Next in one
// transaction makes every run fire at most once, across restarts.
func PlanRuns(c *bot.Cron, nextAt, now time.Time, grace time.Duration) RunPlan {
	p := RunPlan{StoredNext: nextAt}
	if nextAt.IsZero() || nextAt.After(now) {
		p.Next = nextAt
		return p
	}
	latest, count := nextAt, 1
	var prev time.Time
	for {
		n := c.Next(latest)
		if n.IsZero() || n.After(now) {
			p.Next = n
			break
		}
		prev, latest = latest, n
		count++
		if count >= maxCatchUp {
			// Far too many missed runs to walk: skip them all.
			p.Skipped, p.SkipFrom, p.SkipTo, p.MissedCount = count, nextAt, latest, count
			p.Next = c.Next(now)
			return p
		}
	}
	p.MissedCount = count
	if now.Sub(latest) <= grace {
		p.Fire = latest
		p.CatchingUp = now.Sub(latest) > time.Minute
		if count > 1 {
			p.Skipped, p.SkipFrom, p.SkipTo = count-1, nextAt, prev
		}
	} else {
		p.Skipped, p.SkipFrom, p.SkipTo = count, nextAt, latest
	}
	return p
}

// Reminder sources.
const (
	FromConfig  = "config"  // defined in the configuration file
	FromCommand = "command" // added with /reminder add
)

// Reminder posts a message to a channel on a cron schedule, mentioning roles.
type Reminder struct {
	ID        int64
	Name      string
	Cron      string // five fields or a descriptor
	TimeZone  string // IANA zone; "" is UTC
	ChannelID string
	Message   string
	Roles     []string // role ids to mention
	Paused    bool
	Source    string    // FromConfig or FromCommand
	NextAt    time.Time // the next scheduled run
	LastRunAt time.Time // the last run that fired
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Run is one scheduled run of a reminder, report or backup: fired,
// or skipped because Klaxon was down for longer than the grace period.
type Run struct {
	Job         string // e.g. "reminder:3", "report:monthly", "backup:snapshot"
	ScheduledAt time.Time
	Status      string // RunFired or RunSkipped
	Skipped     int    // for RunSkipped: how many runs this row stands for
	Detail      string
	At          time.Time
}

// Run statuses.
const (
	RunFired   = "fired"
	RunSkipped = "skipped"
)

// State is the stored next run of a built-in schedule. Spec is the
// schedule it was computed from: when the configuration changes, the next
// run is computed anew.
type State struct {
	Job       string
	Spec      string
	NextAt    time.Time
	LastRunAt time.Time
}

// ReminderTx is the part of Tx for reminders and calendar runs.
type ReminderTx interface {
	// AddReminder stores a new reminder (setting its ID); EConflict when the name is taken.
	AddReminder(r *Reminder) error
	// Reminder returns a reminder by name, or ENotFound.
	Reminder(name string) (*Reminder, error)
	// ReminderByID returns a reminder by id, or ENotFound.
	ReminderByID(id int64) (*Reminder, error)
	// Reminders returns every reminder, by name.
	Reminders() ([]Reminder, error)
	// DueReminders returns unpaused reminders whose next run is at or before now.
	DueReminders(now time.Time, limit int) ([]Reminder, error)
	// SaveReminder updates a reminder's schedule, target, message, state and times.
	SaveReminder(r *Reminder) error
	// RemoveReminder deletes a reminder by name; ENotFound when there is none.
	RemoveReminder(name string) error
	// RecordRun records a scheduled run. It returns false, changing nothing,
	// when that run of that job was already recorded.
	RecordRun(r Run) (bool, error)
	// Runs returns a job's latest recorded runs, newest first.
	Runs(job string, limit int) ([]Run, error)
	// CalendarState returns a built-in schedule's state (zero NextAt when none is stored).
	CalendarState(job string) (State, error)
	// SaveCalendarState stores a built-in schedule's state.
	SaveCalendarState(s State) error
}

var reminderNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
var snowflakeRE = regexp.MustCompile(`^[0-9]{1,20}$`)

// maxReminderMessage keeps a reminder with its mentions inside one Discord message.
const maxReminderMessage = 1500

// Validate checks a reminder; the error is an EInvalid *Error saying what to change.
func (r *Reminder) Validate() error {
	if !reminderNameRE.MatchString(r.Name) {
		return bot.Errorf(bot.EInvalid, "reminder name %q: use 1 to 32 lower-case letters, digits, '-' or '_', e.g. restore-test", r.Name)
	}
	if _, err := bot.ParseCron(r.Cron, r.TimeZone); err != nil {
		return err
	}
	if !snowflakeRE.MatchString(r.ChannelID) {
		return bot.Errorf(bot.EInvalid, "reminder %s: channel %q is not a Discord channel id (digits only)", r.Name, r.ChannelID)
	}
	if strings.TrimSpace(r.Message) == "" {
		return bot.Errorf(bot.EInvalid, "reminder %s: the message is empty: say what to do, e.g. \"Weekly restore test: restore last night's backup to staging\"", r.Name)
	}
	if n := len([]rune(r.Message)); n > maxReminderMessage {
		return bot.Errorf(bot.EInvalid, "reminder %s: the message has %d characters; keep it to %d (link a runbook for details)", r.Name, n, maxReminderMessage)
	}
	for _, id := range r.Roles {
		if !snowflakeRE.MatchString(id) {
			return bot.Errorf(bot.EInvalid, "reminder %s: role %q is not a Discord role id (digits only)", r.Name, id)
		}
	}
	return nil
}

// Schedule parses the reminder's cron expression in its zone.
func (r *Reminder) Schedule() (*bot.Cron, error) { return bot.ParseCron(r.Cron, r.TimeZone) }

// Job is the reminder's name in the run record.
func (r *Reminder) Job() string { return fmt.Sprintf("reminder:%d", r.ID) }

// Reminders is the reminder feature: the operations behind /reminder and
// the engine job that fires due reminders.
type Reminders struct {
	Store bot.TxStore[Tx]
	// Configured are the reminders of the configuration file: on the job's
	// first run they are added or updated, and configured reminders no
	// longer in the file are removed. Their next runs survive restarts.
	Configured []Reminder
	// TimeZone is the zone of reminders added without one; "" is UTC.
	TimeZone string
	// Grace is how late a run missed while Klaxon was down may still fire
	// (once); older missed runs are skipped and logged. Default 1h.
	Grace time.Duration
	Log   *slog.Logger

	synced    bool                     // the job synced generation syncedGen
	syncedGen uint64                   // touched by the job only
	gen       atomic.Uint64            // bumped by Reconfigure
	live      atomic.Pointer[Settings] // set by Reconfigure; nil: the fields above
}

// Settings is the part of Reminders a configuration reload replaces.
type Settings struct {
	Configured []Reminder
	TimeZone   string
	Grace      time.Duration
}

// Reconfigure replaces the configured reminders, the default zone and the
// grace while the job runs (a configuration reload); the job's next run
// syncs the stored configured reminders with them.
func (rs *Reminders) Reconfigure(s Settings) {
	rs.live.Store(&s)
	rs.gen.Add(1)
}

// settings is what is in force.
func (rs *Reminders) settings() Settings {
	if s := rs.live.Load(); s != nil {
		return *s
	}
	return Settings{Configured: rs.Configured, TimeZone: rs.TimeZone, Grace: rs.Grace}
}

var _ bot.Job = (*Reminders)(nil)

// DefaultReminderGrace is the grace period when none is configured.
const DefaultReminderGrace = time.Hour

func (rs *Reminders) grace() time.Duration {
	if g := rs.settings().Grace; g > 0 {
		return g
	}
	return DefaultReminderGrace
}

func (rs *Reminders) log() *slog.Logger { return bot.OrDiscard(rs.Log) }

// Name implements Job.
func (rs *Reminders) Name() string { return "reminders" }

// Run implements Job: sync the configured reminders once, then fire every
// due reminder.
func (rs *Reminders) Run(ctx context.Context, now time.Time) error {
	if gen := rs.gen.Load(); !rs.synced || gen != rs.syncedGen {
		if err := rs.Sync(ctx, now); err != nil {
			return fmt.Errorf("sync configured reminders: %w", err)
		}
		rs.synced, rs.syncedGen = true, gen
	}
	var due []Reminder
	if err := rs.Store.View(ctx, func(tx Tx) (err error) {
		due, err = tx.DueReminders(now, 100)
		return err
	}); err != nil {
		return err
	}
	for _, r := range due {
		if err := rs.Store.Update(ctx, func(tx Tx) error { return rs.fire(tx, r.ID, now) }); err != nil {
			return fmt.Errorf("reminder %s: %w", r.Name, err)
		}
	}
	return nil
}

// fire runs one due reminder in tx: the message is queued, the run
// recorded and the next run stored together.
func (rs *Reminders) fire(tx Tx, id int64, now time.Time) error {
	r, err := tx.ReminderByID(id)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if r.Paused || r.NextAt.IsZero() || r.NextAt.After(now) {
		return nil // paused or fired by someone else meanwhile
	}
	log := rs.log().With("reminder", r.Name)
	c, err := r.Schedule()
	if err != nil {
		// Only possible if the stored expression or zone became invalid.
		log.Error("reminder has an invalid schedule: pausing it", "err", err)
		r.Paused, r.UpdatedAt = true, now
		return tx.SaveReminder(r)
	}
	p := PlanRuns(c, r.NextAt, now, rs.grace())
	if p.Skipped > 0 {
		detail := fmt.Sprintf("%d run(s) from %s to %s missed while Klaxon was not running (grace %s)",
			p.Skipped, p.SkipFrom.Format(time.RFC3339), p.SkipTo.Format(time.RFC3339), rs.grace())
		if _, err := tx.RecordRun(Run{Job: r.Job(), ScheduledAt: p.SkipTo, Status: RunSkipped, Skipped: p.Skipped,
			Detail: detail, At: now}); err != nil {
			return err
		}
		log.Warn("reminder runs skipped", "skipped", p.Skipped, "from", p.SkipFrom, "to", p.SkipTo, "grace", rs.grace())
	}
	if !p.Fire.IsZero() {
		fresh, err := tx.RecordRun(Run{Job: r.Job(), ScheduledAt: p.Fire, Status: RunFired, At: now})
		if err != nil {
			return err
		}
		if fresh {
			if err := tx.Enqueue(&bot.Outgoing{ChannelID: r.ChannelID, Priority: bot.P2, Kind: "reminder",
				Ref: fmt.Sprintf("%s:%d", r.Job(), p.Fire.Unix()), Message: ReminderMessage(r, p), DueAt: now, CreatedAt: now}); err != nil {
				return err
			}
			r.LastRunAt = p.Fire
			if p.CatchingUp {
				log.Info("reminder fired late after downtime", "scheduled", p.Fire, "late", now.Sub(p.Fire))
			}
		}
	}
	r.NextAt, r.UpdatedAt = p.Next, now
	if p.Next.IsZero() {
		log.Warn("reminder has no further runs: pausing it")
		r.Paused = true
	}
	return tx.SaveReminder(r)
}

func ReminderMessage(r *Reminder, p RunPlan) bot.Message {
	content := bot.MentionPrefix(bot.Mentions{Roles: r.Roles}) + "⏰ **" + r.Name + "** — " + r.Message
	m := bot.Message{Content: content, Mentions: bot.Mentions{Roles: r.Roles}}
	if p.CatchingUp {
		m.Footer = fmt.Sprintf("scheduled for %s; sent late because Klaxon was not running", p.Fire.In(mustZone(r.TimeZone)).Format("Mon 2 Jan 15:04 MST"))
	}
	return m
}

func mustZone(tz string) *time.Location {
	if loc, err := bot.LoadZone(tz); err == nil {
		return loc
	}
	return time.UTC
}

// Sync makes the stored configured reminders match rs.Configured. A
// reminder whose schedule is unchanged keeps its next run (and its paused
// state), so that a restart neither repeats nor loses a run.
func (rs *Reminders) Sync(ctx context.Context, now time.Time) error {
	set := rs.settings()
	want := map[string]Reminder{}
	for _, r := range set.Configured {
		if r.TimeZone == "" {
			r.TimeZone = set.TimeZone
		}
		if err := r.Validate(); err != nil {
			return err
		}
		want[r.Name] = r
	}
	return rs.Store.Update(ctx, func(tx Tx) error {
		have, err := tx.Reminders()
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, h := range have {
			w, ok := want[h.Name]
			if !ok {
				if h.Source == FromConfig {
					rs.log().Info("configured reminder removed from the configuration", "reminder", h.Name)
					if err := tx.RemoveReminder(h.Name); err != nil {
						return err
					}
				}
				continue
			}
			seen[h.Name] = true
			if h.Source != FromConfig {
				rs.log().Warn("a reminder added with /reminder has the name of a configured one; keeping the added one", "reminder", h.Name)
				continue
			}
			r := h
			r.ChannelID, r.Message, r.Roles = w.ChannelID, w.Message, w.Roles
			if r.Cron != w.Cron || r.TimeZone != w.TimeZone || r.NextAt.IsZero() {
				c, _ := w.Schedule()
				r.Cron, r.TimeZone, r.NextAt = w.Cron, w.TimeZone, c.Next(now)
			}
			r.UpdatedAt = now
			if err := tx.SaveReminder(&r); err != nil {
				return err
			}
		}
		for name, w := range want {
			if seen[name] {
				continue
			}
			c, _ := w.Schedule()
			r := w
			r.Source, r.NextAt, r.CreatedAt, r.UpdatedAt, r.CreatedBy = FromConfig, c.Next(now), now, now, "configuration"
			if err := tx.AddReminder(&r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Add validates and stores a new reminder, and returns it with its next
// three runs.
func (rs *Reminders) Add(ctx context.Context, r Reminder, now time.Time) (*Reminder, []time.Time, error) {
	if strings.TrimSpace(r.TimeZone) == "" {
		r.TimeZone = rs.settings().TimeZone
	}
	r.Name = strings.ToLower(strings.TrimSpace(r.Name))
	if err := r.Validate(); err != nil {
		return nil, nil, err
	}
	c, _ := r.Schedule()
	r.Cron = c.Expr
	r.Source, r.NextAt, r.CreatedAt, r.UpdatedAt, r.Paused = FromCommand, c.Next(now), now, now, false
	if err := rs.Store.Update(ctx, func(tx Tx) error { return tx.AddReminder(&r) }); err != nil {
		return nil, nil, err
	}
	return &r, c.NextN(now, 3), nil
}

// List returns every reminder.
func (rs *Reminders) List(ctx context.Context) ([]Reminder, error) {
	var out []Reminder
	err := rs.Store.View(ctx, func(tx Tx) (err error) {
		out, err = tx.Reminders()
		return err
	})
	return out, err
}

// Remove deletes a reminder added with /reminder. Configured reminders
// cannot be removed this way: they would come back at the next start.
func (rs *Reminders) Remove(ctx context.Context, name string) error {
	return rs.Store.Update(ctx, func(tx Tx) error {
		r, err := tx.Reminder(normName(name))
		if err != nil {
			return noReminder(err, name)
		}
		if r.Source == FromConfig {
			return bot.Errorf(bot.EConflict, "reminder %s comes from the configuration file: pause it with /reminder pause, or delete it from the file", r.Name)
		}
		return tx.RemoveReminder(r.Name)
	})
}

// SetPaused pauses or resumes a reminder. Resuming schedules the next run
// after now: runs during the pause are not made up. It returns the
// reminder and, when resumed, its next three runs.
func (rs *Reminders) SetPaused(ctx context.Context, name string, paused bool, now time.Time) (*Reminder, []time.Time, error) {
	var r *Reminder
	var next []time.Time
	err := rs.Store.Update(ctx, func(tx Tx) (err error) {
		r, err = tx.Reminder(normName(name))
		if err != nil {
			return noReminder(err, name)
		}
		if r.Paused == paused {
			state := "paused"
			if !paused {
				state = "running"
			}
			return bot.Errorf(bot.EConflict, "reminder %s is already %s", r.Name, state)
		}
		r.Paused, r.UpdatedAt = paused, now
		if !paused {
			c, err := r.Schedule()
			if err != nil {
				return err
			}
			r.NextAt = c.Next(now)
			next = c.NextN(now, 3)
		}
		return tx.SaveReminder(r)
	})
	return r, next, err
}

func normName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func noReminder(err error, name string) error {
	if bot.ErrorCode(err) == bot.ENotFound {
		return bot.Errorf(bot.ENotFound, "there is no reminder named %q; /reminder list shows them", name)
	}
	return err
}

// DefaultReminders are the calendar of the SRE practice Klaxon serves, as
// in the example configuration: weekly restore test, monthly DR exercise,
// quarterly full recovery, annual DR simulation, weekly SRE review. They
// need a channel (and roles) before use.
func DefaultReminders(channelID string, roles ...string) []Reminder {
	return []Reminder{
		{Name: "restore-test", Cron: "0 10 * * TUE", ChannelID: channelID, Roles: roles,
			Message: "Weekly restore test: restore last night's backup to staging, check the data and record the time it took."},
		{Name: "dr-exercise", Cron: "0 14 1 * *", ChannelID: channelID, Roles: roles,
			Message: "Monthly DR exercise: fail one service over to the standby site and back, following the DR runbook."},
		{Name: "full-recovery", Cron: "0 10 15 1,4,7,10 *", ChannelID: channelID, Roles: roles,
			Message: "Quarterly full recovery: rebuild a complete environment from backups alone and measure RTO and RPO against the targets."},
		{Name: "dr-simulation", Cron: "0 9 1 10 *", ChannelID: channelID, Roles: roles,
			Message: "Annual DR simulation: plan this year's full-day disaster scenario (site loss) with all teams; book the date now."},
		{Name: "sre-review", Cron: "0 16 * * FRI", ChannelID: channelID, Roles: roles,
			Message: "Weekly SRE review: go through this week's incidents, error budgets and toil; pick the follow-ups."},
	}
}
