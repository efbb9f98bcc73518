package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/alertmanager"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/heartbeat"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/metrics"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/store"
)

// Main is the running program: tests start it the way `klaxon serve` does.
type Main struct {
	Config *Config
	Stderr io.Writer // where logs go; default os.Stderr
	Clock  bot.Clock // default the system clock

	Log          *slog.Logger
	DB           *store.DB
	Engine       *bot.Engine
	Session      *discordgo.Session
	Discord      *discord.Client
	Paging       *paging.Service
	Interactions *handlers.Interactions
	Runbooks     *handlers.Runbooks
	Heartbeats   *heartbeat.Service // nil without heartbeats: and watchdog:
	// Metrics are registered on the registry /metrics serves, one per Main.
	Metrics  *metrics.Metrics
	registry *prometheus.Registry

	ln      net.Listener
	srv     *http.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closeMu sync.Mutex
	closed  bool
	unlock  func() error

	gwCancel context.CancelFunc // stops gateway connection attempts
	gwg      sync.WaitGroup
	gwUp     atomic.Bool // the gateway is connected

	// reloaded, when set before reloadOnHUP, is called after each reload:
	// tests wait for it instead of polling.
	reloaded func()

	// Getenv reads the environment when the configuration is reloaded;
	// default os.Getenv.
	Getenv   func(string) string
	reloadMu sync.Mutex // one reload at a time
	applied  *Config    // the configuration last applied by a reload; nil: Config
	gate     *handlers.Gate
	// schedules are the on-call schedules in force, replaced by a reload.
	schedules *paging.LiveSchedules
	incidents *incident.Service   // its policy is replaced by a reload
	reminders *calendar.Reminders // nil without a calendar feature (then reminders: needs a restart)
}

// Run opens the database, connects to Discord, and starts the HTTP server and
// the engine. It returns once Klaxon serves; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	if m.Stderr == nil {
		m.Stderr = os.Stderr
	}
	if m.Clock == nil {
		m.Clock = bot.SystemClock{}
	}
	m.Log = newLogger(m.Stderr, cfg.Log)
	m.registry = metrics.NewRegistry()
	m.Metrics = metrics.New(m.registry)
	m.Metrics.SetBuildInfo(version)
	m.Metrics.ConfigLastReload.Set(float64(m.Clock.Now().UnixNano()) / 1e9) // the start applies the configuration

	if cfg.Env.DiscordToken == "" {
		return errors.New("KLAXON_DISCORD_TOKEN is not set: create a bot in the Discord Developer Portal (https://discord.com/developers/applications → New Application → Bot → Reset Token), then export KLAXON_DISCORD_TOKEN=<token>")
	}
	if cfg.Env.WebhookToken == "" {
		return errors.New("KLAXON_WEBHOOK_TOKEN is not set: choose a long random secret (e.g. `openssl rand -hex 32`), export it, and give Alertmanager the same value in webhook_configs http_config.authorization.credentials")
	}

	unlock, err := store.LockDB(cfg.Env.DB) // restore refuses a database in use
	if err != nil {
		return err
	}
	m.unlock = unlock
	db, err := store.Open(ctx, cfg.Env.DB, store.WithMetrics(m.Metrics))
	if err != nil {
		return err
	}
	m.DB = db

	s, err := discord.NewSession(cfg.Env.DiscordToken, cfg.Env.DiscordAPIURL)
	if err != nil {
		return fmt.Errorf("discord session: %w", err)
	}
	m.Session = s
	if t, ok := s.Client.Transport.(*discord.Transport); ok {
		t.SetMetrics(m.Metrics)
	}
	if err := m.checkToken(ctx); err != nil {
		return err
	}
	m.Discord = discord.New(s, discord.Options{Now: m.Clock.Now, Logger: m.Log.With("component", "discord"),
		Render: discord.RenderOptions{Actions: withRunbookButton(handlers.WithIncidentButton(handlers.CardActions), cfg.postmortems), AlertmanagerURL: cfg.Alertmanager.URL}})
	var last time.Time
	if err := db.View(ctx, func(tx bot.Tx) (err error) { last, err = tx.LastSent(); return err }); err != nil {
		return fmt.Errorf("read when Klaxon last sent to Discord: %w", err)
	}
	if !last.IsZero() {
		// The dispatcher records at most once per MarkEvery before it sends:
		// a send up to MarkEvery later may have gone out unrecorded.
		m.Discord.Pacer().PriorTraffic(last.Add(bot.MarkEvery))
	}

	policy := cfg.Policy()
	m.Engine = &bot.Engine{
		Store: db, Discord: m.Discord, Messenger: &discord.Messenger{C: m.Discord}, Policy: policy, Clock: m.Clock,
		Log: m.Log.With("component", "engine"), Interval: time.Duration(cfg.Engine.Interval), Senders: map[bot.ItemKind]bot.Sender{}, Metrics: m.Metrics,
	}
	// Pages, the handoff job, /oncall and the terminal read one set of
	// schedules, which a reload replaces.
	m.schedules = paging.NewLiveSchedules(cfg.schedules)
	m.Paging = &paging.Service{Store: db.Paging(), Policy: policy, Policies: cfg.policies, OnCall: m.schedules,
		Directory: cfg.directory, Log: m.Log.With("component", "paging"), Trigger: m.Engine.Trigger, Metrics: m.Metrics}
	policy.OnGroupChange = append(policy.OnGroupChange, m.Paging.OnGroupChange)
	m.Engine.Hooks = map[string]bot.SentHook{"page": m.Paging.PageSent}
	m.Engine.Prepare = map[string]bot.PrepareHook{"page": m.Paging.PreparePage}
	m.Engine.Jobs = []bot.Job{m.Paging, &paging.HandoffJob{Store: db.Paging(), Schedules: m.schedules, Log: m.Log.With("component", "handoff")}}

	mux := http.NewServeMux()
	if err := m.wireOutbound(mux); err != nil {
		return err
	}
	gate := &handlers.Gate{Access: cfg.accessWithPermissions(), Lookup: discord.MemberRoles(s), Now: m.Clock.Now, Log: m.Log.With("component", "gate")}
	m.gate = gate
	m.Interactions = &handlers.Interactions{Session: s, Now: m.Clock.Now, Seen: db, Log: m.Log.With("component", "interactions"), Gate: gate}
	if !cfg.accessConfigured() {
		m.Log.Warn("access is not configured: every interaction but /problem (and its old name /report) is refused; set access.staff_roles in the configuration (see README, Security model)")
	}
	silences := &paging.Silences{Paging: m.Paging, Classifier: policy.Classifier, Log: m.Log.With("component", "alerts")}
	if cfg.Alertmanager.URL != "" {
		am, err := alertmanager.New(cfg.Alertmanager.URL, &http.Client{Timeout: 10 * time.Second})
		if err != nil {
			return err
		}
		silences.Silencer = am
	}
	alerts := &handlers.Alerts{Paging: m.Paging, Silences: silences, Clock: m.Clock, Gate: gate,
		Log: m.Log.With("component", "alerts"), Threads: &incident.Service{Store: db.Incident()}}
	alerts.Register(m.Interactions)
	if cfg.calendar != nil {
		cal := cfg.calendar.Wire(db, m.Clock, m.Log)
		m.reminders = cal.Reminders // a reload replaces the configured reminders
		m.Engine.Jobs = append(m.Engine.Jobs, cal.Jobs()...)
		cal.Handlers.Register(m.Interactions)
	}
	if err := m.wireIncidents(policy); err != nil {
		return err
	}
	(&handlers.OnCall{Overrides: &paging.Overrides{Store: db.Paging()}, Schedules: m.schedules, Paging: m.Paging, Clock: m.Clock,
		Log: m.Log.With("component", "oncall")}).Register(m.Interactions)
	m.Runbooks = m.wirePostmortems(cfg.postmortems)
	m.routeAdmin(mux, gate) // the terminal commands' admin API
	(&handlers.ConfigReload{Service: m}).Register(m.Interactions)
	// Each feature declared its commands and custom_id prefixes beside its
	// routes: one without the other is a bug, found here rather than by the
	// first person who presses the button.
	if err := m.Interactions.Check(); err != nil {
		return err
	}
	if k := cfg.Interactions.PublicKey; k != "" {
		key, _ := hex.DecodeString(k) // validated with the configuration
		m.Interactions.PublicKey = key
		mux.Handle("POST /interactions", m.Interactions)
	}
	if cfg.Env.DiscordGateway {
		s.AddHandler(m.Interactions.OnGateway)
		s.AddHandler(func(*discordgo.Session, *discordgo.Connect) { m.gwUp.Store(true); m.Metrics.Gateway(true) })
		s.AddHandler(func(*discordgo.Session, *discordgo.Disconnect) { m.gwUp.Store(false); m.Metrics.Gateway(false) })
	}

	webhook := &handlers.Webhook{
		Ingester: &bot.Ingester{Store: db, Policy: policy}, Clock: m.Clock, Token: cfg.Env.WebhookToken, MaxBytes: cfg.Webhook.MaxBytes,
		Trigger: m.Engine.Trigger, Log: m.Log.With("component", "webhook"), Metrics: m.Metrics,
	}
	m.Heartbeats = m.routeHeartbeats(mux, policy, webhook)
	mux.Handle("POST /webhook/alertmanager", webhook)
	mux.HandleFunc("GET /healthz", handlers.Healthz)
	mux.Handle("GET /readyz", handlers.Readyz(
		handlers.Check{Name: "database", Fn: db.Ping},
		handlers.Check{Name: "engine", Fn: m.engineReady},
		handlers.Check{Name: "discord", Fn: m.discordReady, Degraded: true, Report: m.discordState},
		handlers.Check{Name: "outbound", Fn: m.outboundReady, Degraded: true},
	))
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))

	ln, err := net.Listen("tcp", cfg.Env.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Env.HTTPAddr, err)
	}
	m.ln = ln
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}

	gwCtx, gwCancel := context.WithCancel(context.Background())
	m.gwCancel = gwCancel
	if cfg.Env.DiscordGateway {
		if err := s.Open(); err != nil {
			// The pager must start when Discord is down: alerts are stored and
			// delivered over REST when it is back; the gateway keeps trying.
			m.Log.Warn("Discord gateway not reachable; retrying in the background", "err", discord.Dialled(s, err))
			m.gwg.Add(1)
			go func() {
				defer m.gwg.Done()
				m.openGateway(gwCtx)
			}()
		}
	}

	// Paging and calls run every cycle; bookkeeping at most once a second.
	for i, j := range m.Engine.Jobs {
		if _, urgent := j.(*paging.PhoneJob); !urgent && j != bot.Job(m.Paging) {
			m.Engine.Jobs[i] = bot.Every(j, time.Second)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server stopped", "err", err)
		}
	}()
	go func() {
		defer m.wg.Done()
		_ = m.Engine.Run(runCtx)
	}()
	m.requeueDead(ctx, "start") // the configuration or the bot's access may have changed since
	m.Log.Info("klaxon serving", "version", version, "addr", ln.Addr().String(), "db", cfg.Env.DB,
		"gateway", cfg.Env.DiscordGateway)
	return nil
}

// requeueDead makes the dead letters due again: after a restart or a
// reload, what Discord refused may go through now.
func (m *Main) requeueDead(ctx context.Context, why string) {
	var n int
	err := m.DB.Update(ctx, func(tx bot.Tx) (err error) { n, err = tx.RequeueDead(m.Clock.Now()); return err })
	switch {
	case err != nil:
		m.Log.Error("cannot requeue dead letters", "why", why, "err", err)
	case n > 0:
		m.Log.Info("dead letters requeued", "why", why, "items", n)
		m.Engine.Trigger()
	}
}

// Addr is the address the HTTP server listens on.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// engineReady fails when the engine has not completed a cycle recently.
func (m *Main) engineReady(context.Context) error {
	last, err := m.Engine.LastSuccess()
	limit := 3*m.Engine.Interval + 10*time.Second
	switch {
	case last.IsZero() && err != nil:
		return fmt.Errorf("no engine cycle succeeded yet: %v", err)
	case last.IsZero():
		return errors.New("no engine cycle completed yet")
	case m.Clock.Now().Sub(last) > limit:
		return fmt.Errorf("last successful engine cycle was %s ago (%v)", m.Clock.Now().Sub(last).Round(time.Second), err)
	}
	return nil
}

// outboundReady reports a Discord outage the queue is waiting out, and
// dead letters (items Discord refused for good).
func (m *Main) outboundReady(ctx context.Context) error {
	var errs []error
	if down, since, last := m.Engine.Outage(); down {
		errs = append(errs, fmt.Errorf("Discord has been failing for %s; the queue holds everything and probes every few seconds (last error: %s)",
			m.Clock.Now().Sub(since).Round(time.Second), last))
	}
	var dead []bot.Item
	if err := m.DB.View(ctx, func(tx bot.Tx) (err error) { dead, err = tx.DeadItems(3); return err }); err != nil {
		return err
	}
	for _, it := range dead {
		errs = append(errs, fmt.Errorf("dead letter: Discord refused %s: %s", it.Describe(), it.LastError))
	}
	if len(dead) > 0 {
		errs = append(errs, errors.New("fix the cause, then reload (SIGHUP) or run `klaxon requeue`; `klaxon check-config --online` lists them all"))
	}
	return errors.Join(errs...)
}

// discordState is /readyz's description of Discord: reported, never a
// reason to be unready.
func (m *Main) discordState(ctx context.Context) any {
	st := map[string]any{"gateway": "off"}
	if m.Config.Env.DiscordGateway {
		st["gateway"] = "disconnected"
		if m.gwUp.Load() {
			st["gateway"] = "connected"
		}
	}
	stamp := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339)
	}
	ok, refused := m.Discord.Auth()
	st["last_success"], st["last_refused_token"] = stamp(ok), stamp(refused)
	down, since, lastErr := m.Engine.Outage()
	st["reachable"] = !down
	if down {
		st["failing_since"], st["last_error"] = stamp(since), lastErr
	}
	var depth, dead int
	if err := m.DB.View(ctx, func(tx bot.Tx) (err error) { depth, _, dead, err = tx.QueueStats(); return err }); err == nil {
		st["queue_backlog"], st["dead_letters"] = depth, dead
	}
	return st
}

// discordReady fails when Discord refused the token last, or never accepted it.
func (m *Main) discordReady(context.Context) error {
	ok, refused := m.Discord.Auth()
	switch {
	case !refused.IsZero() && refused.After(ok):
		return fmt.Errorf("Discord refused the bot token %s ago (401): check KLAXON_DISCORD_TOKEN", time.Since(refused).Round(time.Second))
	case ok.IsZero():
		return errors.New("Discord has not answered yet")
	}
	return nil
}

// checkToken asks Discord who Klaxon is. A refused token stops the start
// with what to do; Discord being unreachable does not (alerts are stored
// and delivered when it is back).
func (m *Main) checkToken(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u, err := m.Session.User("@me", discordgo.WithContext(ctx))
	var rest *discordgo.RESTError
	switch {
	case errors.As(err, &rest) && rest.Response != nil && rest.Response.StatusCode == http.StatusUnauthorized:
		return errors.New("Discord refused KLAXON_DISCORD_TOKEN (401): copy the token again from the Developer Portal (your application → Bot → Reset Token)")
	case err != nil:
		m.Log.Warn("Discord is not reachable at start; alerts are stored and delivered when it is", "err", discord.Dialled(m.Session, err))
	default:
		m.Log.Info("authenticated to Discord", "bot", u.Username, "bot_id", u.ID)
	}
	return nil
}

// Close shuts down in order: inbound HTTP and the gateway first, then the
// engine (finishing the cycle in flight), then the database.
func (m *Main) Close() error {
	m.closeMu.Lock()
	defer m.closeMu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if m.srv != nil {
		errs = append(errs, m.srv.Shutdown(ctx))
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.gwCancel != nil {
		m.gwCancel()
		m.gwg.Wait()
	}
	if m.Session != nil && m.Config.Env.DiscordGateway {
		errs = append(errs, m.Session.Close())
	}
	if m.Interactions != nil {
		m.Interactions.Wait()
	}
	if m.cancel != nil {
		m.cancel()
	}
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, errors.New("engine did not stop within 10s"))
	}
	if m.DB != nil {
		if m.Discord != nil {
			// Messages sent outside the queue (or whose record a shutdown
			// cut short) count in Discord's windows too: the next process
			// starts its pacer from the latest of them.
			if last := m.Discord.Pacer().LastLimited(); !last.IsZero() {
				if err := m.DB.Update(ctx, func(tx bot.Tx) error { return tx.MarkSent(last) }); err != nil {
					errs = append(errs, fmt.Errorf("record when Klaxon last sent to Discord: %w", err))
				}
			}
		}
		errs = append(errs, m.DB.Close())
	}
	if m.unlock != nil {
		errs = append(errs, m.unlock())
	}
	if m.Log != nil {
		m.Log.Info("klaxon stopped")
	}
	return errors.Join(errs...)
}

func newLogger(w io.Writer, c LogConfig) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(c.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "text") || (c.Format == "" && isTerminal(w)) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// isTerminal reports whether w is a character device (a person is reading):
// logs are JSON unless log.format says otherwise or a terminal reads them.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// reloadOnHUP reloads the configuration (see reload) on every SIGHUP,
// until the returned stop is called.
func (m *Main) reloadOnHUP() (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range hup {
			m.Log.Info("SIGHUP: reloading the configuration and retrying dead letters")
			m.reload("SIGHUP")
			m.requeueDead(context.Background(), "reload")
			if m.reloaded != nil {
				m.reloaded()
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(hup)
		<-done
	}
}

// openGateway retries the gateway connection with backoff (1 s doubling to
// 1 min) until it succeeds or ctx ends. After one success discordgo
// reconnects by itself.
func (m *Main) openGateway(ctx context.Context) {
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		err := m.Session.Open()
		if err == nil {
			m.Log.Info("connected to the Discord gateway")
			return
		}
		wait = min(2*wait, time.Minute)
		m.Log.Warn("Discord gateway still not reachable", "err", discord.Dialled(m.Session, err), "retry_in", wait.String())
	}
}
