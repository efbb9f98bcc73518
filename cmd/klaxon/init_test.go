package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/discordtest"
)

type initWorld struct {
	fake                         *discordtest.Server
	guild, alerts, critical, low string
	staff, oncall                string
	env                          map[string]string
	dir                          string
}

func newInitWorld(t *testing.T) *initWorld {
	t.Helper()
	fake := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Error(err) }})
	t.Cleanup(fake.Close)
	w := &initWorld{fake: fake, dir: t.TempDir()}
	w.guild = fake.AddGuild("Marola RP")
	w.critical = fake.AddChannel(w.guild, "alerts-critical", discordgo.ChannelTypeGuildText)
	w.alerts = fake.AddChannel(w.guild, "alerts", discordgo.ChannelTypeGuildText)
	w.low = fake.AddChannel(w.guild, "alerts-low", discordgo.ChannelTypeGuildText)
	fake.AddChannel(w.guild, "General Voice", discordgo.ChannelTypeGuildVoice)
	w.staff = fake.AddRole(w.guild, "staff")
	w.oncall = fake.AddRole(w.guild, "on-call")
	tok := filepath.Join(w.dir, "token")
	writeFile(t, tok, "the-token\n")
	w.env = map[string]string{"KLAXON_DISCORD_TOKEN_FILE": tok, "KLAXON_DISCORD_API_URL": fake.APIBase(), "KLAXON_DB": filepath.Join(w.dir, "k.db")}
	return w
}

func (w *initWorld) init(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := initCmd(context.Background(), args, func(k string) string { return w.env[k] }, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// init against the fake Discord, from flags, writes a configuration with the
// server's ids (names as comments) that passes check-config --online, that
// serve accepts, and that keeps every section of the example.
func TestInitWritesAWorkingConfig(t *testing.T) {
	w := newInitWorld(t)
	out := filepath.Join(w.dir, "klaxon.yaml")
	code, stdout, stderr := w.init("", "--guild", w.guild, "--out", out, "--non-interactive",
		"--channel", "P0=#alerts-critical", "--channel", "all=alerts", "--channel", "P3="+w.low, "--staff-role", "Staff", "--mention-role", "@on-call")
	if code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{
		`guild_id: "` + w.guild + `"        # Marola RP`,
		`channel: "` + w.critical + `"         # #alerts-critical`,
		`channel: "` + w.alerts + `"         # #alerts`,
		`channel: "` + w.low + `"         # #alerts-low`,
		`mention_roles: ["` + w.oncall + `"] # @on-call`,
		`staff_roles: ["` + w.staff + `"]   # @staff`,
		`- role: "` + w.oncall + `"   # @on-call`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("configuration lacks %q:\n%s", want, text)
		}
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", st.Mode().Perm())
	}
	// Every top-level section of the shipped example is there, live or commented.
	example, err := os.ReadFile("../../deploy/klaxon.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^#? ?([a-z_]+):`).FindAllStringSubmatch(string(example), -1) {
		if !regexp.MustCompile(`(?m)^(# )?` + m[1] + `:`).MatchString(text) {
			t.Errorf("section %s: of the example is missing", m[1])
		}
	}

	var o, e bytes.Buffer
	if code := run(context.Background(), []string{"check-config", "--online", "--config", out}, func(k string) string { return w.env[k] }, &o, &e); code != 0 ||
		strings.Contains(o.String(), "warning") || strings.Count(o.String(), "  ok") != 6 {
		t.Errorf("check-config --online: exit %d\n%s%s", code, o.String(), e.String())
	}
	c, ps := LoadConfig(out, func(k string) string { return w.env[k] })
	if c == nil {
		t.Fatal(ps)
	}
	if p, bad := c.placeholderProblem(false); bad {
		t.Errorf("serve would refuse it: %v", p)
	}
}

// Interactively: numbers, names, Enter for the previous channel; a wrong
// answer is asked again.
func TestInitAsks(t *testing.T) {
	w := newInitWorld(t)
	out := filepath.Join(w.dir, "klaxon.yaml")
	answers := "1\n#nope\n2\n\n3\nstaff\n\n"
	code, stdout, stderr := w.init(answers, "--guild", w.guild, "--out", out)
	if code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"Text channels of Marola RP:", "   1  #alerts-critical  (" + w.critical + ")", `no text channel "#nope"; there are #alerts-critical, #alerts, #alerts-low`,
		"Channel for P2 (minor issue) cards [number, #name or id] (Enter: #alerts): ", "Roles of Marola RP:", "wrote " + out + " for Marola RP"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dialogue lacks %q:\n%s", want, stdout)
		}
	}
	data, _ := os.ReadFile(out)
	text := string(data)
	for i, id := range []string{w.critical, w.alerts, w.alerts, w.low} {
		if !strings.Contains(text, "P"+string(rune('0'+i))+":") || !strings.Contains(text, `channel: "`+id+`"`) {
			t.Errorf("P%d channel %s missing:\n%s", i, id, text)
		}
	}
	if !strings.Contains(text, `mention_roles: [] # nobody is pinged`) || !strings.Contains(text, `- role: "`+w.staff+`"   # @staff`) {
		t.Errorf("without a mention role the staff role is paged and nobody pinged:\n%s", text)
	}
}

func TestInitRefuses(t *testing.T) {
	w := newInitWorld(t)
	existing := filepath.Join(w.dir, "exists.yaml")
	writeFile(t, existing, "# mine\n")
	cases := []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		want  string
	}{
		{"existing file", nil, "", []string{"--guild", w.guild, "--out", existing},
			"init: " + existing + " exists: pass --force to overwrite it, or --out another file\n"},
		{"non-interactive names what is missing", nil, "", []string{"--guild", w.guild, "--out", filepath.Join(w.dir, "a.yaml"), "--non-interactive", "--channel", "P0=alerts"},
			"init: --non-interactive: missing --channel P1=#name, --channel P2=#name, --channel P3=#name, --staff-role NAME\n"},
		{"unknown channel", nil, "", []string{"--guild", w.guild, "--out", filepath.Join(w.dir, "b.yaml"), "--channel", "all=#general"},
			"init: --channel P0: no text channel \"#general\"; there are #alerts-critical, #alerts, #alerts-low\n"},
		{"bad --channel", nil, "", []string{"--channel", "P7=#alerts"}, "invalid value \"P7=#alerts\" for flag -channel: \"P7\" is not P0, P1, P2, P3 or all\n"},
		{"stdin ends", nil, "1\n", []string{"--guild", w.guild, "--out", filepath.Join(w.dir, "c.yaml")},
			"init: no answer (stdin ended): answer the questions, or give every choice as a flag (--channel, --staff-role) with --non-interactive\n"},
		{"no guild: lists the bot's servers", nil, "", []string{"--out", filepath.Join(w.dir, "d.yaml")},
			"init: --guild is required: the id of your Discord server (Developer Mode → right-click the server → Copy Server ID); the bot is in: Marola RP (--guild " + w.guild + ")\n"},
		{"unknown guild", nil, "", []string{"--guild", "123456789012345678", "--out", filepath.Join(w.dir, "e.yaml")},
			"init: server 123456789012345678: Discord does not know this id (404 Unknown Guild); is the bot invited to it?\n"},
		{"no token", map[string]string{"KLAXON_DISCORD_TOKEN_FILE": ""}, "", []string{"--guild", w.guild},
			"init: KLAXON_DISCORD_TOKEN (or KLAXON_DISCORD_TOKEN_FILE) is not set: create a bot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			saved := map[string]string{}
			for k, v := range w.env {
				saved[k] = v
			}
			defer func() { w.env = saved }()
			for k, v := range tc.env {
				w.env[k] = v
			}
			code, stdout, stderr := w.init(tc.stdin, tc.args...)
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant it to contain:\n%s\nstdout: %s", code, stderr, tc.want, stdout)
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "# mine\n" {
		t.Errorf("the existing file was changed: %q", data)
	}
}
