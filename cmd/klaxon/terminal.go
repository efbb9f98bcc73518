package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/text"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/store"
)

// The terminal commands: `klaxon alerts`, `ack ID`, `resolve ID`, `oncall
// [SCHEDULE]`, for when Discord is down. They call the running server's
// admin API (handlers.AdminAPI) with KLAXON_ADMIN_TOKEN and the user they
// act for; when nothing listens there (connection refused) they open the
// database directly, only if no server holds its lock, and say so. Both
// ways go through handlers.Terminal: the same gate, the same services,
// the same action log.

// terminalOpts are the terminal commands' flags.
type terminalOpts struct {
	cmd        string
	as         string
	url        string
	json       bool
	configPath string
	db         string
	args       []string
}

// terminalCmd runs one terminal command; exit 0 ok, 1 refused or failed, 2 usage.
func terminalCmd(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	synopsis := map[string][2]string{
		"alerts":  {"klaxon alerts [--as USER] [--json]", "list the open alert groups: id, priority, state, title, age, acknowledged by"},
		"ack":     {"klaxon ack ID [--as USER] [--json]", "acknowledge alert group ID: paging stops"},
		"resolve": {"klaxon resolve ID [--as USER] [--json]", "resolve alert group ID by hand"},
		"oncall":  {"klaxon oncall [SCHEDULE] [--as USER] [--json]", "who is on call now and next"},
	}[cmd]
	fs := newFlagSet(cmd, synopsis[0], synopsis[1]+"\n  Talks to the running server's admin API (KLAXON_ADMIN_TOKEN); when no server runs, to the database directly.", stdout, stderr)
	o := terminalOpts{cmd: cmd}
	fs.StringVar(&o.as, "as", getenv("KLAXON_ADMIN_USER"), "your Discord user id: the gate checks its roles (admin.users) (default KLAXON_ADMIN_USER)")
	fs.StringVar(&o.url, "url", getenv("KLAXON_ADMIN_URL"), "the server's address (default KLAXON_ADMIN_URL, else http://127.0.0.1 on KLAXON_HTTP_ADDR's port)")
	fs.BoolVar(&o.json, "json", false, "print JSON instead of a table")
	fs.StringVar(&o.configPath, "config", getenv("KLAXON_CONFIG"), "configuration file, for the database mode when the server is stopped (default KLAXON_CONFIG)")
	fs.StringVar(&o.db, "db", getenv("KLAXON_DB"), "database, for the database mode when the server is stopped (default KLAXON_DB, else klaxon.db)")
	// Flags may come before or after the positional argument.
	for {
		if err := fs.Parse(args); err != nil {
			return flagExit(err)
		}
		if fs.NArg() == 0 {
			break
		}
		o.args = append(o.args, fs.Arg(0))
		args = fs.Args()[1:]
	}
	want := map[string][2]int{"alerts": {0, 0}, "ack": {1, 1}, "resolve": {1, 1}, "oncall": {0, 1}}[cmd]
	if len(o.args) < want[0] || len(o.args) > want[1] {
		fmt.Fprintf(stderr, "%s: wrong number of arguments\n", cmd)
		fs.Usage()
		return 2
	}
	var id int64
	if cmd == "ack" || cmd == "resolve" {
		var err error
		if id, err = strconv.ParseInt(strings.TrimPrefix(o.args[0], "#"), 10, 64); err != nil || id <= 0 {
			fmt.Fprintf(stderr, "%s: %q is not an alert number: `klaxon alerts` lists them\n", cmd, o.args[0])
			return 2
		}
	}
	if o.as == "" {
		fmt.Fprintf(stderr, "%s: say who you are: --as <your Discord user id> or KLAXON_ADMIN_USER\n", cmd)
		return 2
	}
	token, _, err := readSecret(getenv, "KLAXON_ADMIN_TOKEN")
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
	base := o.url
	if base == "" {
		base = adminURL(getenv("KLAXON_HTTP_ADDR"))
	}
	out, err := callAdmin(ctx, base, strings.TrimSpace(token), o.as, cmd, id, o.args)
	if errors.Is(err, syscall.ECONNREFUSED) {
		fmt.Fprintf(stderr, "%s: no Klaxon server answers at %s (connection refused): working on the database directly; Discord gets the card edits when the server runs again\n", cmd, base)
		out, err = direct(ctx, o, getenv, id)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", cmd, terminalMessage(err))
		return 1
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return 1
		}
		return 0
	}
	printTerminal(stdout, out)
	return 0
}

// adminURL is the local server's address from KLAXON_HTTP_ADDR.
func adminURL(addr string) string {
	if addr == "" {
		addr = ":8080"
	}
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "[" {
		host = "127.0.0.1"
	}
	return "http://" + host + ":" + port
}

// terminalMessage is an error as the terminal shows it: a core error's
// message (it already says what to do), or the whole chain.
func terminalMessage(err error) string {
	if bot.ErrorCode(err) != "" && bot.ErrorCode(err) != bot.EInternal {
		return bot.ErrorMessage(err)
	}
	return err.Error()
}

// apiError is an answer of the admin API other than 200.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("the server refused (%d): %s", e.status, e.msg) }

// callAdmin calls the admin API and decodes its answer into the command's type.
func callAdmin(ctx context.Context, base, token, user, cmd string, id int64, args []string) (any, error) {
	method, path := http.MethodGet, ""
	var out any
	switch cmd {
	case "alerts":
		path, out = "/admin/v1/alerts", &[]handlers.AlertRow{}
	case "ack", "resolve":
		method, path, out = http.MethodPost, fmt.Sprintf("/admin/v1/alerts/%d/%s", id, cmd), &handlers.ActResult{}
	case "oncall":
		path, out = "/admin/v1/oncall", &[]handlers.OnCallRow{}
		if len(args) > 0 {
			path += "?schedule=" + url.QueryEscape(args[0])
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, nil)
	if err != nil {
		return nil, fmt.Errorf("admin API request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(handlers.AdminUserHeader, user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call the Klaxon server at %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read the Klaxon server's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(bytes.TrimSpace(body)))
		}
		return nil, &apiError{status: resp.StatusCode, msg: e.Error}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("decode the Klaxon server's answer: %w", err)
	}
	return out, nil
}

// direct runs the command on the database, when no server runs: only if
// its lock is free (a server that holds it would not know of the change).
func direct(ctx context.Context, o terminalOpts, getenv func(string) string, id int64) (any, error) {
	if o.configPath == "" {
		return nil, errors.New("working on the database needs the configuration (access, schedules, escalation): give --config FILE or set KLAXON_CONFIG")
	}
	cfg, problems := LoadConfig(o.configPath, getenv)
	if errs := problems.Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("configuration %s: %w", o.configPath, errs)
	}
	path := o.db
	if path == "" {
		path = cfg.Env.DB
	}
	unlock, err := store.LockDB(path)
	if err != nil {
		return nil, fmt.Errorf("cannot work on the database directly: %w", err)
	}
	defer func() { _ = unlock() }()
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open the database %s: %w", path, err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	policy := cfg.Policy()
	p := &paging.Service{Store: db.Paging(), Policy: policy, Policies: cfg.policies, OnCall: paging.NewScheduleSet(cfg.schedules),
		Directory: cfg.directory, Log: log}
	// No Discord here: roles come from admin.users only.
	gate := &handlers.Gate{Access: cfg.accessWithPermissions(), Log: log}
	t := cfg.terminal(p, &paging.Overrides{Store: db.Paging()}, gate, bot.SystemClock{}, log)
	switch o.cmd {
	case "alerts":
		rows, err := t.List(ctx, o.as)
		return &rows, err
	case "ack":
		return t.Acknowledge(ctx, o.as, id)
	case "resolve":
		return t.Resolve(ctx, o.as, id)
	default:
		schedule := ""
		if len(o.args) > 0 {
			schedule = o.args[0]
		}
		rows, err := t.OnCall(ctx, o.as, schedule)
		return &rows, err
	}
}

// printTerminal prints a command's answer as a table.
func printTerminal(w io.Writer, out any) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch v := out.(type) {
	case *[]handlers.AlertRow:
		if len(*v) == 0 {
			fmt.Fprintln(tw, "No open alerts.")
			return
		}
		fmt.Fprintln(tw, "ID\tPRIO\tSTATE\tAGE\tACKED BY\tTITLE")
		for _, r := range *v {
			acked := "-"
			if r.AckedBy != "" {
				acked = r.AckedBy
				if r.AckedVia != "" {
					acked += " (" + r.AckedVia + ")"
				}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Priority, r.State, text.Span(time.Duration(r.AgeSeconds)*time.Second), acked, text.OneLine(r.Title, 80))
		}
	case *handlers.ActResult:
		fmt.Fprintf(tw, "#%d %s: %s by %s via %s; now %s.\n", v.ID, v.Title, v.Action, v.By, v.Via, v.State)
	case *[]handlers.OnCallRow:
		fmt.Fprintln(tw, "SCHEDULE\tNOW\tUNTIL\tNEXT\tFROM")
		for _, r := range *v {
			nowWho, until, next, from := "nobody", "-", "nobody", "-"
			if r.Now != nil {
				nowWho, until = shiftWho(r.Now), r.Now.End.Local().Format("2006-01-02 15:04 MST")
			}
			if r.Next != nil {
				next, from = shiftWho(r.Next), r.Next.Start.Local().Format("2006-01-02 15:04 MST")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Schedule, nowWho, until, next, from)
		}
	}
}

func shiftWho(s *handlers.ShiftRow) string {
	switch {
	case s.UserID == "":
		return "nobody"
	case s.Name != "":
		return s.Name + " (" + s.UserID + ")"
	}
	return s.UserID
}
