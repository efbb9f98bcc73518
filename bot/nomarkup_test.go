package bot_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The core speaks no Discord: no Discord markup in a string literal and no
// colour (a six-digit hex constant) in a non-test file of bot or of its
// feature packages. Only bot/discord renders markup and picks colours
// (bot/discordtest is the fake Discord); the core makes references as
// renderer-neutral tokens (bot/markup.go), with no exception left. Comments
// do not count: the files are parsed, and only literals are looked at.
func TestCoreWritesNoDiscordMarkup(t *testing.T) {
	skipDirs := map[string]bool{"discord": true, "discordtest": true, "testdata": true}
	markup := []string{"<@", "<#", "<t:"} // "<@&" and "<@!" start with "<@"
	colour := regexp.MustCompile(`^0[xX][0-9a-fA-F]{6}$`)
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, bad := range literalProblems(f, markup, colour) {
			t.Errorf("%s: %s", fset.Position(bad.pos), bad.what)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("checked only %d files: is the test running in bot/?", files)
	}
}

type literalProblem struct {
	pos  token.Pos
	what string
}

func literalProblems(f *ast.File, markup []string, colour *regexp.Regexp) []literalProblem {
	var out []literalProblem
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok {
			return true
		}
		switch lit.Kind {
		case token.STRING:
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				s = lit.Value
			}
			for _, m := range markup {
				if strings.Contains(s, m) {
					out = append(out, literalProblem{lit.Pos(), "Discord markup " + strconv.Quote(m) + " in " + lit.Value + ": make a reference with bot.UserRef/RoleRef/ChannelRef/TimeRef, render it in bot/discord"})
				}
			}
		case token.INT:
			if colour.MatchString(lit.Value) {
				out = append(out, literalProblem{lit.Pos(), "colour literal " + lit.Value + ": give the message a bot.Tone; bot/discord picks colours"})
			}
		}
		return true
	})
	return out
}

// The check itself: markup and colours in literals are found, the same
// text in comments is not.
func TestLiteralProblems(t *testing.T) {
	src := `package p

// A comment may say <@id>, <#channel>, <t:1:R> and 0xE01E1E.
var (
	a = "<@" + id + ">"
	b = ` + "`<@&1>`" + `
	c = "thread <#" + id + ">"
	d = "\u003ct:1:R>"
	e = 0xE01E1E
	f = 0xFF
	g = "<b>fine</b>"
	h = 16777215
)
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	got := literalProblems(f, []string{"<@", "<#", "<t:"}, regexp.MustCompile(`^0[xX][0-9a-fA-F]{6}$`))
	var lines []int
	for _, p := range got {
		lines = append(lines, fset.Position(p.pos).Line)
	}
	if want := []int{5, 6, 7, 8, 9}; !slices.Equal(lines, want) {
		t.Errorf("problems on lines %v, want %v", lines, want)
	}
}
