package runbooks_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/marola-rp/klaxon/runbooks"
)

// writeFiles writes name → content into a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func loadErrors(t *testing.T, errs []error) []*runbooks.LoadError {
	t.Helper()
	var out []*runbooks.LoadError
	for _, err := range errs {
		var le *runbooks.LoadError
		if !errors.As(err, &le) {
			t.Fatalf("error %v (%T) is not a *LoadError", err, err)
		}
		out = append(out, le)
	}
	return out
}

func ids(rbs []*runbooks.Runbook) []string {
	out := make([]string, 0, len(rbs))
	for _, rb := range rbs {
		out = append(out, rb.ID)
	}
	return out
}

const goodRunbook = `---
id: good-one
title: Good One
priority: P2
matchers:
  - service="web"
---
## Steps
1. Do the thing
`

func TestDefaults(t *testing.T) {
	s, errs := runbooks.Load("")
	if len(errs) > 0 {
		t.Fatalf("Load(\"\") errors: %v", errs)
	}
	want := []string{"service-down", "ddos-attack", "exploit-found", "game-bug"} // priority order
	if got := ids(s.All()); !slices.Equal(got, want) {
		t.Fatalf("All() = %v, want %v", got, want)
	}
	wantPrio := map[string]string{"service-down": "P0", "ddos-attack": "P1", "exploit-found": "P2", "game-bug": "P3"}
	for _, rb := range s.All() {
		t.Run(rb.ID, func(t *testing.T) {
			if rb.Priority != wantPrio[rb.ID] {
				t.Errorf("Priority = %q, want %q", rb.Priority, wantPrio[rb.ID])
			}
			if n := len(rb.Steps); n < 6 || n > 10 {
				t.Errorf("%d steps, want 6–10: %q", n, rb.Steps)
			}
			for _, st := range rb.Steps {
				if n := utf8.RuneCountInString(st); n > 80 {
					t.Errorf("step is %d runes, want ≤ 80: %q", n, st)
				}
			}
			if len(rb.Matchers) == 0 {
				t.Error("no matchers")
			}
			if rb.Title == "" || rb.Scenario == "" || rb.FirstResponse == "" || len(rb.Aliases) == 0 {
				t.Errorf("missing title/scenario/first_response/aliases: %+v", rb)
			}
			for _, section := range []string{"## Symptoms", "## Steps", "## Escalate when", "## Communication"} {
				if !strings.Contains(rb.Body, section) {
					t.Errorf("body has no %q section", section)
				}
			}
			if want := "embedded:" + rb.ID + ".md"; rb.Source != want {
				t.Errorf("Source = %q, want %q", rb.Source, want)
			}
		})
	}
}

func TestLoadOverrideAndAdd(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"service-down.md": "---\nid: service-down\ntitle: Our Outage Runbook\npriority: P0\nmatchers: ['alertname=\"ServiceDown\"']\n---\n## Steps\n- [ ] Call Bob\n- [x] Call Alice\n",
		"good.md":         goodRunbook,
		"notes.txt":       "not a runbook",
		".draft.md":       "---\nbroken",
	})
	s, errs := runbooks.Load(dir)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	rb, ok := s.Get("service-down")
	if !ok {
		t.Fatal("service-down missing")
	}
	if rb.Title != "Our Outage Runbook" || rb.Source != filepath.Join(dir, "service-down.md") {
		t.Errorf("override not applied: title %q source %q", rb.Title, rb.Source)
	}
	if want := []string{"Call Bob", "Call Alice"}; !slices.Equal(rb.Steps, want) {
		t.Errorf("Steps = %q, want %q", rb.Steps, want)
	}
	if _, ok := s.Get("outage"); ok {
		t.Error("alias of the replaced default still resolves")
	}
	if got, want := ids(s.All()), []string{"service-down", "ddos-attack", "exploit-found", "good-one", "game-bug"}; !slices.Equal(got, want) {
		t.Errorf("All() = %v, want %v", got, want)
	}
}

func TestLoadBrokenFiles(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // "line:substring" per expected error
	}{
		{"bad YAML", "---\nid: kaputt\ntitle: [unclosed\npriority: P1\n---\nbody\n", []string{"3:front matter"}},
		{"tab indentation", "---\nid: kaputt\ntitle: x\n\tpriority: P1\n---\n", []string{"4:front matter"}},
		{"unclosed quote", "---\nid: kaputt\ntitle: \"Broken\npriority: P1\n---\n", []string{"3:front matter"}},
		{"bad indentation", "---\nid: kaputt\ntitle: Broken\n  priority: P1\n---\n", []string{"4:front matter"}},
		{"error after a multi-line list", "---\nid: kaputt\nmatchers: ['a=\"b\"',\n  'c=\"d\"']\ntitle: Broken\npriority: P1\n: oops\n---\n", []string{"7:front matter"}},
		{"unknown key", "---\nid: kaputt\ntitle: Broken\npriority: P1\nowner: bob\n---\n", []string{`5:unknown front-matter key "owner"`}},
		{"misspelt key", "---\nid: kaputt\ntitle: Broken\npriority: P1\nfirst-response: call\n---\n", []string{`5:did you mean "first_response"`}},
		{"missing id", "---\ntitle: Broken\npriority: P1\n---\n", []string{`1:missing required front-matter key "id"`}},
		{"bad id", "---\nid: Kaputt Thing\ntitle: Broken\npriority: P1\n---\n", []string{"2:not a slug"}},
		{"bad priority", "---\nid: kaputt\ntitle: Broken\npriority: P5\n---\n", []string{"4:must be one of P0, P1, P2, P3"}},
		{"bad matcher", "---\nid: kaputt\ntitle: Broken\npriority: P1\nmatchers:\n  - alertname=\"ok\"\n  - '=nolabel'\n---\n", []string{"7:bad matcher"}},
		{"bad matcher regexp", "---\nid: kaputt\ntitle: Broken\npriority: P1\nmatchers:\n  - alertname=~\"(\"\n---\n", []string{"6:bad matcher"}},
		{"matchers not a list", "---\nid: kaputt\ntitle: Broken\npriority: P1\nmatchers: alertname=\"x\"\n---\n", []string{"5:must be a list"}},
		{"multi-line first_response", "---\nid: kaputt\ntitle: Broken\npriority: P1\nfirst_response: |\n  one\n  two\n---\n", []string{"5:single line"}},
		{"duplicate key", "---\nid: kaputt\ntitle: A\ntitle: B\npriority: P1\n---\n", []string{"4:duplicate key"}},
		{"no front matter", "# Just markdown\n", []string{"1:missing front matter"}},
		{"unclosed front matter", "---\nid: kaputt\ntitle: Broken\n", []string{"1:not closed"}},
		{"several problems", "---\nid: kaputt\ntitle: Broken\npriority: urgent\nsevertiy: high\nmatchers:\n  - 'bad matcher'\n---\n",
			[]string{"4:priority", "5:unknown front-matter key", "7:bad matcher"}},
		{"windows line endings and BOM", "\ufeff---\r\nid: broken\r\ntitle: Broken\r\npriority: P9\r\n---\r\n", []string{"4:priority"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"good.md": goodRunbook, "broken.md": tc.content})
			s, errs := runbooks.Load(dir)
			les := loadErrors(t, errs)
			if len(les) != len(tc.want) {
				t.Fatalf("got %d errors, want %d: %v", len(les), len(tc.want), errs)
			}
			for i, le := range les {
				var line int
				var sub string
				fmt.Sscanf(tc.want[i], "%d:", &line)
				sub = tc.want[i][strings.Index(tc.want[i], ":")+1:]
				if le.File != filepath.Join(dir, "broken.md") || le.Line != line || !strings.Contains(le.Err.Error(), sub) {
					t.Errorf("error %d = %q (file %q line %d), want broken.md line %d containing %q", i, le, le.File, le.Line, line, sub)
				}
				if want := fmt.Sprintf("%s:%d: ", le.File, le.Line); !strings.HasPrefix(le.Error(), want) {
					t.Errorf("Error() = %q, want prefix %q", le.Error(), want)
				}
			}
			if _, ok := s.Get("good-one"); !ok {
				t.Error("good file not loaded next to the broken one")
			}
			if _, ok := s.Get("kaputt"); ok {
				t.Error("broken file was loaded")
			}
			if s.Len() != 5 {
				t.Errorf("Len() = %d, want 5 (4 defaults + good)", s.Len())
			}
		})
	}
}

func TestLoadDuplicateIDs(t *testing.T) {
	dup := strings.Replace(goodRunbook, "title: Good One", "title: Second", 1)
	dir := writeFiles(t, map[string]string{"a.md": goodRunbook, "b.md": dup})
	s, errs := runbooks.Load(dir)
	les := loadErrors(t, errs)
	if len(les) != 1 {
		t.Fatalf("errors = %v, want 1", errs)
	}
	le := les[0]
	if !errors.Is(le, runbooks.ErrDuplicateID) || le.File != filepath.Join(dir, "b.md") || le.Line != 2 ||
		!strings.Contains(le.Error(), filepath.Join(dir, "a.md")) {
		t.Errorf("error = %q, want duplicate id at b.md:2 naming a.md", le)
	}
	if rb, _ := s.Get("good-one"); rb == nil || rb.Title != "Good One" {
		t.Errorf("first file should win, got %+v", rb)
	}
}

func TestLoadAliasConflict(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.md": "---\nid: a-one\ntitle: A\npriority: P1\naliases: [game-bug, mine]\n---\n",
	})
	s, errs := runbooks.Load(dir)
	les := loadErrors(t, errs)
	if len(les) != 1 || les[0].Line != 5 || !strings.Contains(les[0].Error(), `"game-bug"`) {
		t.Fatalf("errors = %v, want alias conflict at a.md:5", errs)
	}
	if rb, _ := s.Get("game-bug"); rb == nil || rb.ID != "game-bug" {
		t.Errorf("Get(game-bug) = %v, the id must win over the alias", rb)
	}
	if rb, _ := s.Get("MINE"); rb == nil || rb.ID != "a-one" {
		t.Errorf("Get(MINE) = %v, want a-one", rb)
	}
}

func TestLoadMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	s, errs := runbooks.Load(dir)
	les := loadErrors(t, errs)
	if len(les) != 1 || les[0].File != dir || !errors.Is(les[0], fs.ErrNotExist) {
		t.Fatalf("errors = %v, want one not-exist error for %s", errs, dir)
	}
	if s.Len() != 4 {
		t.Errorf("defaults not loaded: Len() = %d", s.Len())
	}
}

func TestParseSteps(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"ordered", "## Steps\n1. One\n2. Two\n", []string{"One", "Two"}},
		{"checklist", "## Steps\n\n- [ ] One\n- [x] Two\n- [ ]\n", []string{"One", "Two"}},
		{"paren numbers", "### Steps:\n1) One\n2) Two\n", []string{"One", "Two"}},
		{"nested details are not steps", "## Steps\n1. One\n   - detail\n     more detail\n2. Two\n   1. sub\n", []string{"One", "Two"}},
		{"continuation joined", "## Steps\n1. One\n   continues here\n2. Two\nlazy\n", []string{"One continues here", "Two lazy"}},
		{"loose list", "## Steps\n1. One\n\n2. Two\n\n   Paragraph of two.\n\n3. Three\n", []string{"One", "Two", "Three"}},
		{"first list only", "## Steps\nIntro text.\n\n1. One\n\nOutro.\n\n1. Other\n", []string{"One"}},
		{"list type change ends", "## Steps\n1. One\n- bullet\n", []string{"One"}},
		{"ends at next heading", "## Steps\n1. One\n## Notes\n2. Two\n", []string{"One"}},
		{"heading in code fence ignored", "## Intro\n```sh\n# Steps\n1. not this\n```\n## Steps\n1. One\n   ```sh\n   # comment\n   ```\n2. Two\n", []string{"One", "Two"}},
		{"subheading before list", "## Steps\n### Game server\n1. One\n", []string{"One"}},
		{"empty section", "## Steps\nNothing here.\n## Other\n1. One\n", nil},
		{"no steps heading", "## Procedure\n1. One\n", nil},
		{"heading case-insensitive", "## STEPS\n* One\n+ Two\n", []string{"One", "Two"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb, errs := runbooks.Parse("t.md", []byte("---\nid: t\ntitle: T\npriority: P3\n---\n"+tc.body))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if !slices.Equal(rb.Steps, tc.want) {
				t.Errorf("Steps = %q, want %q", rb.Steps, tc.want)
			}
		})
	}
}

func TestGet(t *testing.T) {
	s, _ := runbooks.Load("")
	tests := []struct{ ref, want string }{
		{"service-down", "service-down"},
		{"  SERVICE-DOWN ", "service-down"},
		{"ddos", "ddos-attack"},
		{"Outage", "service-down"},
		{"nope", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			rb, ok := s.Get(tc.ref)
			if got := idOf(rb); got != tc.want || ok != (tc.want != "") {
				t.Errorf("Get(%q) = %q, %v; want %q", tc.ref, got, ok, tc.want)
			}
		})
	}
}

func idOf(rb *runbooks.Runbook) string {
	if rb == nil {
		return ""
	}
	return rb.ID
}

func TestMatch(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"game-down.md": "---\nid: game-down\ntitle: Game Server Down\npriority: P0\nmatchers:\n  - alertname=~\"ServiceDown|InstanceDown\"\n  - service=\"game\"\n---\n",
		"web-p2.md":    "---\nid: web-p2\ntitle: Web\npriority: P2\nmatchers: ['alertname=\"WebSlow\"']\n---\n",
		"web-p1.md":    "---\nid: web-p1\ntitle: Web\npriority: P1\nmatchers: ['alertname=\"WebSlow\"']\n---\n",
		"no-match.md":  "---\nid: manual\ntitle: Manual only\npriority: P0\n---\n",
	})
	s, errs := runbooks.Load(dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"service down", map[string]string{"alertname": "ServiceDown"}, "service-down"},
		{"target down with extra labels", map[string]string{"alertname": "TargetDown", "job": "node"}, "service-down"},
		{"most matchers wins", map[string]string{"alertname": "InstanceDown", "service": "game"}, "game-down"},
		{"other service falls back", map[string]string{"alertname": "InstanceDown", "service": "web"}, "service-down"},
		{"ddos prefix regexp", map[string]string{"alertname": "DDoSDetected"}, "ddos-attack"},
		{"packet loss", map[string]string{"alertname": "HighPacketLoss"}, "ddos-attack"},
		{"regexp is anchored", map[string]string{"alertname": "NotServiceDown"}, ""},
		{"economy", map[string]string{"alertname": "EconomyAnomaly"}, "exploit-found"},
		{"script error", map[string]string{"alertname": "ScriptErrorRate"}, "game-bug"},
		{"priority breaks ties", map[string]string{"alertname": "WebSlow"}, "web-p1"},
		{"no labels", map[string]string{}, ""},
		{"nil labels", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := idOf(s.Match(tc.labels)); got != tc.want {
				t.Errorf("Match(%v) = %q, want %q", tc.labels, got, tc.want)
			}
		})
	}
}

func TestSearch(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"website-down.md": "---\nid: website-down\ntitle: Website Down\npriority: P1\n---\n",
	})
	s, errs := runbooks.Load(dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		name  string
		query string
		limit int
		want  []string // expected leading results, in order
		n     int      // expected result count, -1 to skip
	}{
		{"empty is all by priority", "", 0, []string{"service-down", "ddos-attack", "website-down", "exploit-found", "game-bug"}, 5},
		{"empty respects limit", "  ", 2, []string{"service-down", "ddos-attack"}, 2},
		{"exact id", "ddos-attack", 0, []string{"ddos-attack"}, -1},
		{"alias exact", "ddos", 0, []string{"ddos-attack"}, -1},
		{"id prefix", "exp", 0, []string{"exploit-found"}, -1},
		{"id prefix beats substring", "serv", 0, []string{"service-down"}, -1},
		{"word prefix", "down", 0, []string{"service-down", "website-down"}, -1},
		{"case and separators", "Service_Down", 0, []string{"service-down"}, -1},
		{"abbreviation", "srv down", 0, []string{"service-down"}, -1},
		{"typo transposition", "ddso", 0, []string{"ddos-attack"}, -1},
		{"typo missing letter", "servce down", 0, []string{"service-down"}, -1},
		{"typo in partial word", "explot", 0, []string{"exploit-found"}, -1},
		{"initials", "gb", 0, []string{"game-bug"}, -1},
		{"scenario text", "fxserver", 0, []string{"service-down"}, 1},
		{"nothing", "zzzqqq", 0, nil, 0},
		{"limit", "e", 1, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(s.Search(tc.query, tc.limit))
			if len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
				t.Errorf("Search(%q) = %v, want it to start with %v", tc.query, got, tc.want)
			}
			if tc.n >= 0 && len(got) != tc.n {
				t.Errorf("Search(%q) = %v, want %d results", tc.query, got, tc.n)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	s, _ := runbooks.Load("")
	tests := []struct{ ref, want string }{
		{"game-bug", "game-bug"},
		{"Bug", "game-bug"},
		{"https://wiki.example/runbooks/game-bug.md", "game-bug"},
		{"<https://wiki.example/runbooks/ddos-attack.md#steps>", "ddos-attack"},
		{"https://github.com/o/r/blob/main/runbooks/service-down.md?plain=1", "service-down"},
		{"https://wiki.example/runbooks/exploit-found/", "exploit-found"},
		{"/etc/klaxon/runbooks/game-bug.MD", "game-bug"},
		{`C:\runbooks\game-bug.md`, "game-bug"},
		{"runbooks/outage.md", "service-down"},
		{"https://wiki.example/", ""},
		{"https://wiki.example/runbooks/unknown.md", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			rb, ok := s.Resolve(tc.ref)
			if got := idOf(rb); got != tc.want || ok != (tc.want != "") {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tc.ref, got, ok, tc.want)
			}
		})
	}
}

func TestRenderAndSummary(t *testing.T) {
	s, _ := runbooks.Load("")
	rb, _ := s.Get("service-down")
	full := rb.Render(0)
	for _, want := range []string{"## Service Down\n", "**Priority:** P0", "**Scenario:** ", "**First response:** Health check", "## Steps"} {
		if !strings.Contains(full, want) {
			t.Errorf("Render(0) lacks %q", want)
		}
	}
	if rb.Render(1<<20) != full {
		t.Error("Render with a large max differs from Render(0)")
	}
	sum := rb.Summary()
	if strings.Contains(sum, "\n") || !strings.HasPrefix(sum, "[P0] Service Down (service-down): Health check") {
		t.Errorf("Summary() = %q", sum)
	}
}

func TestRenderTruncation(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"ascii", strings.Repeat("plain text line\n", 40)},
		{"multi-byte", strings.Repeat("Größe ü 日本語 🔥🚨 ", 40)},
		{"combining and zwj", strings.Repeat("e\u0301 👩\u200d🚒 ❤\ufe0f ", 60)},
		{"code fence", "Intro\n```sh\n" + strings.Repeat("echo 日本 ; ", 100) + "\n```\nafter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb := &runbooks.Runbook{ID: "x", Title: "Tïtle", Priority: "P1", FirstResponse: "go", Body: tc.body}
			full := rb.Render(0)
			total := utf8.RuneCountInString(full)
			for max := 1; max <= total+5; max++ {
				got := rb.Render(max)
				n := utf8.RuneCountInString(got)
				if !utf8.ValidString(got) {
					t.Fatalf("Render(%d) is not valid UTF-8", max)
				}
				if n > max {
					t.Fatalf("Render(%d) is %d runes", max, n)
				}
				if max >= total {
					if got != full {
						t.Fatalf("Render(%d) changed an output that fits", max)
					}
					continue
				}
				if max > 20 {
					if !strings.HasSuffix(got, runbooks.TruncatedMarker) {
						t.Fatalf("Render(%d) = …%q, no truncation marker", max, tail(got))
					}
					if strings.Count(got, "```")%2 != 0 {
						t.Fatalf("Render(%d) leaves a code fence open: …%q", max, tail(got))
					}
				}
				head := strings.TrimSuffix(got, "\n"+runbooks.TruncatedMarker)
				head = strings.TrimSuffix(head, "\n```") // fence closed by Render
				if !strings.HasPrefix(full, head) {
					t.Fatalf("Render(%d) = …%q, not a prefix of the full text", max, tail(got))
				}
				next, _ := utf8.DecodeRuneInString(full[len(head):])
				if next == '\u0301' || next == '\u200d' || next == '\ufe0f' || strings.HasSuffix(head, "\u200d") {
					t.Fatalf("Render(%d) splits a character sequence: …%q", max, tail(head))
				}
			}
		})
	}
}

func tail(s string) string {
	r := []rune(s)
	if len(r) > 30 {
		r = r[len(r)-30:]
	}
	return string(r)
}

func TestLibraryReload(t *testing.T) {
	dir := writeFiles(t, map[string]string{"good.md": goodRunbook})
	lib, errs := runbooks.NewLibrary(dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if lib.Dir() != dir {
		t.Errorf("Dir() = %q", lib.Dir())
	}
	old := lib.Current()

	// A broken new file: the old set stays.
	if err := os.WriteFile(filepath.Join(dir, "new.md"), []byte("---\nid: new\ntitle: New\npriority: P1\nbogus: 1\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, errs := lib.Reload()
	les := loadErrors(t, errs)
	if len(les) != 1 || les[0].Line != 5 {
		t.Fatalf("Reload errors = %v, want one at new.md:5", errs)
	}
	if got != old || lib.Current() != old {
		t.Error("Reload with errors replaced the current set")
	}

	// Fixed: the new set is swapped in.
	if err := os.WriteFile(filepath.Join(dir, "new.md"), []byte("---\nid: new\ntitle: New\npriority: P1\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, errs = lib.Reload()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got == old || lib.Current() != got {
		t.Error("good Reload did not swap the set")
	}
	if _, ok := lib.Current().Get("new"); !ok {
		t.Error("new runbook missing after Reload")
	}
	if _, ok := old.Get("new"); ok {
		t.Error("old set was mutated")
	}

	// The directory disappears: that is an error too, the set stays.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if s, errs := lib.Reload(); len(errs) != 1 || s != got {
		t.Errorf("Reload of a missing dir = %v, %v; want the current set and one error", s, errs)
	}
}

func TestLibraryConcurrent(t *testing.T) {
	dir := writeFiles(t, map[string]string{"good.md": goodRunbook})
	lib, errs := runbooks.NewLibrary(dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := lib.Current()
				if _, ok := s.Get("good-one"); !ok {
					t.Error("good-one missing from the current set")
					return
				}
				s.Match(map[string]string{"alertname": "ServiceDown"})
				s.Search("srv", 5)
			}
		})
	}
	for i := range 30 {
		content := goodRunbook
		if i%3 == 0 {
			content = "---\nid: good-one\ntitle: [broken\n---\n" // must never become current
		}
		if err := os.WriteFile(filepath.Join(dir, "good.md"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		lib.Reload()
	}
	close(stop)
	wg.Wait()
}
