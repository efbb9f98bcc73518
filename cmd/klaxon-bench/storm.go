package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
	"github.com/marola-rp/klaxon/bot/discordtest"
)

// options are the storm command's settings.
type options struct {
	Groups           int
	P0s              int
	StormDuration    time.Duration
	RepresentTimeout time.Duration
	ResolveTimeout   time.Duration
	GroupWait        time.Duration
	GroupInterval    time.Duration
	Settle           time.Duration
	JSONPath         string
	TablePath        string
	KlaxonBin        string
	AlertmanagerBin  string
	WorkDir          string
	KlaxonLogLevel   string
	KlaxonExtra      string // YAML file appended to the generated Klaxon configuration
	Progress         io.Writer
}

// errSetup marks failures to get the run going (missing tools, a process
// that would not start): the run did not complete.
type errSetup struct{ err error }

func (e errSetup) Error() string { return e.err.Error() }
func (e errSetup) Unwrap() error { return e.err }

const (
	benchDiscordToken = "klaxon-bench.discord.token"
	benchWebhookToken = "klaxon-bench-webhook-token-4c1d9e"
)

// bench is one run's moving parts.
type bench struct {
	o       options
	log     func(format string, args ...any)
	discord *discordtest.Server
	guild   string
	chans   [4]string // Klaxon's channels by priority
	native  string    // the native receiver's channel
	hookID  string    // the native receiver's incoming webhook
	hookURL string

	klaxon *klaxonProc
	proxy  *recorder
	am     *amtest.Instance

	groups    []planned // storm groups then P0s
	prioOf    map[string]string
	violMu    sync.Mutex
	violCount map[string]int      // receiver -> violations
	violEx    map[string][]string // receiver -> first examples
}

// runStorm runs the whole benchmark and returns its result. An error means
// the run could not complete.
func runStorm(ctx context.Context, o options) (*Result, error) {
	b := &bench{o: o, violCount: map[string]int{}, violEx: map[string][]string{}, prioOf: map[string]string{}}
	b.log = func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "klaxon-bench: "+format+"\n", args...)
		}
	}
	defer b.close()

	amBin := o.AlertmanagerBin
	if amBin == "" {
		bin, err := amtest.Binary()
		if err != nil {
			return nil, errSetup{err}
		}
		amBin = bin
	}
	amVersion, err := alertmanagerVersion(ctx, amBin)
	if err != nil {
		return nil, errSetup{err}
	}
	if o.WorkDir == "" {
		d, err := os.MkdirTemp("", "klaxon-bench-")
		if err != nil {
			return nil, errSetup{err}
		}
		o.WorkDir = d
	} else if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return nil, errSetup{err}
	}
	b.o = o
	b.log("work directory (logs, configs, database): %s", o.WorkDir)

	// 1. The fake Discord, rate limits on.
	b.discord, err = discordtest.NewOnAddr("127.0.0.1:0", discordtest.Options{Token: benchDiscordToken, OnViolation: b.violation})
	if err != nil {
		return nil, errSetup{err}
	}
	b.guild = b.discord.AddGuild("Klaxon bench")
	for i := range b.chans {
		b.chans[i] = b.discord.AddChannel(b.guild, fmt.Sprintf("alerts-p%d", i), discordgo.ChannelTypeGuildText)
	}
	oncall := b.discord.AddRole(b.guild, "on-call")
	b.native = b.discord.AddChannel(b.guild, "alertmanager-native", discordgo.ChannelTypeGuildText)
	b.hookID, _, b.hookURL = b.discord.CreateWebhook(b.native)
	b.log("fake Discord on %s (5 messages/5 s per channel, 50 requests/s global)", b.discord.URL())

	// 2. Klaxon, built from this checkout, with a fresh database.
	bin, revision := o.KlaxonBin, "binary "+o.KlaxonBin
	if bin == "" {
		b.log("building klaxon (go build ./cmd/klaxon)…")
		if bin, revision, err = buildKlaxon(ctx, o.WorkDir); err != nil {
			return nil, errSetup{err}
		}
	}
	cfgPath := filepath.Join(o.WorkDir, "klaxon.yaml")
	cfgText := klaxonConfig(b.guild, b.chans, oncall, o.KlaxonLogLevel)
	if o.KlaxonExtra != "" {
		extra, err := os.ReadFile(o.KlaxonExtra)
		if err != nil {
			return nil, errSetup{err}
		}
		cfgText += "# From " + o.KlaxonExtra + ":\n" + string(extra)
	}
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return nil, errSetup{err}
	}
	db := filepath.Join(o.WorkDir, "klaxon.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(db + suffix) // a fresh database every run
	}
	b.klaxon, err = startKlaxon(ctx, bin, cfgPath, filepath.Join(o.WorkDir, "klaxon.log"), map[string]string{
		"KLAXON_DISCORD_TOKEN":   benchDiscordToken,
		"KLAXON_WEBHOOK_TOKEN":   benchWebhookToken,
		"KLAXON_DB":              db,
		"KLAXON_HTTP_ADDR":       "127.0.0.1:0",
		"KLAXON_DISCORD_API_URL": b.discord.APIBase(),
		"KLAXON_DISCORD_GATEWAY": "off",
		"KLAXON_LOG_LEVEL":       o.KlaxonLogLevel,
		"KLAXON_LOG_FORMAT":      "json",
	})
	if err != nil {
		return nil, errSetup{err}
	}
	b.log("klaxon serving on %s (pid %d)", b.klaxon.Addr, b.klaxon.Pid())
	if b.proxy, err = startRecorder("http://" + b.klaxon.Addr); err != nil {
		return nil, errSetup{err}
	}

	// 3. Alertmanager: every group to both receivers.
	amLog, err := os.Create(filepath.Join(o.WorkDir, "alertmanager.log"))
	if err != nil {
		return nil, errSetup{err}
	}
	defer amLog.Close()
	amDir := filepath.Join(o.WorkDir, "alertmanager")
	_ = os.RemoveAll(amDir)
	if err := os.MkdirAll(amDir, 0o755); err != nil {
		return nil, errSetup{err}
	}
	b.am, err = amtest.Run(ctx, alertmanagerConfig(b.proxy.URL(), b.hookURL, o.GroupWait, o.GroupInterval),
		amtest.Options{Binary: amBin, Dir: amDir, LogLevel: "info", Logs: amLog})
	if err != nil {
		return nil, errSetup{err}
	}
	b.log("%s on %s (pid %d)", amVersion, b.am.URL, b.am.Pid())

	// 4. The storm.
	storm, p0s := stormPlan(o.Groups, o.P0s, o.StormDuration)
	b.groups = append(slices.Clone(storm), p0s...)
	for _, g := range b.groups {
		b.prioOf[g.Name] = g.Priority
	}
	watch := startCPUWatch(os.Getpid(), b.klaxon.Pid(), b.am.Pid())
	start := time.Now()
	ends := start.Add(6 * time.Hour) // firing until we resolve them, whatever resolve_timeout says
	b.log("storm: pushing %d groups (P2/P3) over %s with %d P0s…", o.Groups, o.StormDuration, o.P0s)
	p0Pushed, stormTook, err := b.push(ctx, start, ends, storm, p0s)
	if err != nil {
		return nil, err
	}
	b.log("storm pushed in %.1fs", stormTook.Seconds())

	res := &Result{
		Date: start.UTC().Format(time.RFC3339), Machine: machine(), WorkDir: o.WorkDir, Complete: true,
		Setup: Setup{Klaxon: revision, Groups: o.Groups, P0s: o.P0s, Alerts: len(b.groups), StormSeconds: round1(stormTook.Seconds()),
			Alertmanager: amVersion, GroupWait: o.GroupWait.String(), GroupInterval: o.GroupInterval.String(),
			DiscordLimits:       "5 messages / 5 s per channel (incoming webhooks too), 50 requests/s global",
			RepresentTimeoutSec: o.RepresentTimeout.Seconds(), ResolveTimeoutSec: o.ResolveTimeout.Seconds()},
	}

	// 5. Wait until every group is on Discord (both receivers) or time is up.
	names := make([]string, len(b.groups))
	for i, g := range b.groups {
		names[i] = g.Name
	}
	var kDone, nDone bool
	b.wait(ctx, "represented", o.RepresentTimeout, func() (int, int, bool) {
		k, n := b.presenceNow(time.Time{})
		kDone, nDone = len(k.Represented) == len(names), len(n.Represented) == len(names)
		return len(k.Represented), len(n.Represented), kDone && nDone
	})
	res.unfinished(kDone, nDone, fmt.Sprintf("had not put every group on Discord when the %s wait ended", o.RepresentTimeout))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// 6. Resolve everything.
	resolveAt := time.Now()
	var resolved []amtest.Alert
	for _, g := range b.groups {
		// The same startsAt as when it fired, as Prometheus does: Alertmanager
		// keeps the earliest startsAt it saw, and Klaxon takes an earlier
		// startsAt for a stale delivery of a previous episode.
		resolved = append(resolved, g.alert(start.Add(g.At), resolveAt))
	}
	for chunk := range slices.Chunk(resolved, 500) {
		if err := b.am.Push(ctx, chunk...); err != nil {
			return nil, fmt.Errorf("resolve: %w", err)
		}
	}
	b.log("resolved all %d alerts in %.1fs", len(resolved), time.Since(resolveAt).Seconds())
	b.wait(ctx, "resolutions reflected", o.ResolveTimeout, func() (int, int, bool) {
		k, n := b.presenceNow(resolveAt)
		kr, nr := len(k.ResolvedEdited)+len(k.ResolvedNew), len(n.ResolvedEdited)+len(n.ResolvedNew)
		kDone, nDone = kr == len(names), nr == len(names)
		// The native receiver can only resolve what it showed: it is done
		// when it resolved all of those.
		nShownDone := nr == len(n.Represented)
		return kr, nr, kDone && (nDone || nShownDone)
	})
	res.unfinished(kDone, nDone, fmt.Sprintf("had not shown every resolution when the %s wait ended", o.ResolveTimeout))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if !sleepCtx(ctx, o.Settle) { // trailing edits (Klaxon's engine runs every 2 s)
		return nil, ctx.Err()
	}

	// 7. Measure, then stop everything.
	b.finish(res, start, resolveAt, p0Pushed, names)
	_, avail, others := watch.Stop(res.Machine.CPUs)
	res.Machine.OtherCPUSeconds, res.Machine.AvailableCPUSeconds = round1(others), round1(avail)
	if avail > 0 && others > 0.1*avail {
		res.Notes = append(res.Notes, fmt.Sprintf("the machine was shared: other processes used %.0f%% of its CPU during the run; latencies and CPU figures may be skewed", 100*others/avail))
	}
	return res, nil
}

// push fires the storm: storm groups in due batches, each P0 in its own API
// call at its time. It returns when each P0 push returned, and how long the
// storm took to push.
func (b *bench) push(ctx context.Context, start, ends time.Time, storm, p0s []planned) ([]time.Time, time.Duration, error) {
	p0Pushed := make([]time.Time, len(p0s))
	errs := make(chan error, len(p0s)+1)
	var wg sync.WaitGroup
	for j, p := range p0s {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !sleepCtx(ctx, time.Until(start.Add(p.At))) {
				errs <- ctx.Err()
				return
			}
			if err := b.am.Push(ctx, p.alert(start.Add(p.At), ends)); err != nil {
				errs <- fmt.Errorf("push %s: %w", p.Name, err)
				return
			}
			p0Pushed[j] = time.Now()
		}()
	}
	const tick = 50 * time.Millisecond
	for i := 0; i < len(storm); {
		due := time.Since(start)
		var batch []amtest.Alert
		for i < len(storm) && storm[i].At <= due {
			batch = append(batch, storm[i].alert(start.Add(storm[i].At), ends))
			i++
		}
		if len(batch) > 0 {
			if err := b.am.Push(ctx, batch...); err != nil {
				return nil, 0, fmt.Errorf("push storm: %w", err)
			}
		}
		if i < len(storm) && !sleepCtx(ctx, min(tick, time.Until(start.Add(storm[i].At)))) {
			return nil, 0, ctx.Err()
		}
	}
	took := time.Since(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		return nil, 0, err
	}
	return p0Pushed, took, nil
}

// unfinished notes which receivers a wait left unfinished.
func (r *Result) unfinished(klaxonDone, nativeDone bool, what string) {
	if !klaxonDone {
		r.Complete = false
		r.Notes = append(r.Notes, "Klaxon "+what)
	}
	if !nativeDone {
		r.Notes = append(r.Notes, "the native receiver "+what+"; its figures are as of then")
	}
}

// wait polls cond every second until it reports done or timeout passes,
// logging progress every 10 s. It reports whether cond was met.
func (b *bench) wait(ctx context.Context, what string, timeout time.Duration, cond func() (klaxon, native int, done bool)) bool {
	t0 := time.Now()
	lastLog := t0
	for {
		k, n, done := cond()
		if done {
			b.log("%s: klaxon %d/%d, native %d/%d after %.1fs", what, k, len(b.groups), n, len(b.groups), time.Since(t0).Seconds())
			return true
		}
		if !b.klaxon.Running() {
			b.log("klaxon exited during the run (%v)", b.klaxon.cmd.ProcessState)
			return false
		}
		if time.Since(t0) >= timeout {
			b.log("%s: time is up after %s: klaxon %d/%d, native %d/%d", what, timeout, k, len(b.groups), n, len(b.groups))
			return false
		}
		if time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			b.log("%s: klaxon %d/%d, native %d/%d (%.0fs)", what, k, len(b.groups), n, len(b.groups), time.Since(t0).Seconds())
		}
		if !sleepCtx(ctx, time.Second) {
			return false
		}
	}
}

// channelOf says where a group must show up for each receiver.
func (b *bench) klaxonChannel(name string) (string, bool) {
	p, ok := b.prioOf[name]
	if !ok {
		return "", false
	}
	return b.chans[p[1]-'0'], true
}

func (b *bench) nativeChannel(name string) (string, bool) {
	_, ok := b.prioOf[name]
	return b.native, ok
}

// parents maps each thread under the bench's channels to its channel.
func (b *bench) parents() map[string]string {
	m := map[string]string{}
	for _, ch := range append(b.chans[:], b.native) {
		m[ch] = ch
		for _, th := range b.discord.Threads(ch) {
			m[th.ID] = ch
		}
	}
	return m
}

// presenceNow reads both receivers' groups off the fake Discord's state.
func (b *bench) presenceNow(resolvesPushed time.Time) (klaxon, native Presence) {
	var km, nm []shownMessage
	for id, parent := range b.parents() {
		for _, m := range b.discord.Messages(id) {
			sm := shownMessage{Channel: parent, CreatedAt: m.CreatedAt, Text: messageText(m.Content, m.Embeds)}
			if parent == b.native {
				nm = append(nm, sm)
			} else {
				km = append(km, sm)
			}
		}
	}
	return presence(km, b.klaxonChannel, resolvesPushed), presence(nm, b.nativeChannel, resolvesPushed)
}

func (b *bench) violation(err error) {
	who := "klaxon"
	var v *discordtest.Violation
	if errors.As(err, &v) && strings.HasPrefix(v.Path, "/webhooks/"+b.hookID) {
		who = "native"
	}
	b.violMu.Lock()
	defer b.violMu.Unlock()
	b.violCount[who]++
	if len(b.violEx[who]) < 5 {
		b.violEx[who] = append(b.violEx[who], err.Error())
	}
}

func (b *bench) close() {
	if b.am != nil {
		b.am.Close()
	}
	if b.klaxon != nil {
		b.klaxon.Stop()
	}
	if b.proxy != nil {
		b.proxy.Close()
	}
	if b.discord != nil {
		b.discord.Close()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
