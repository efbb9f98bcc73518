package runbooks

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/pkg/labels"
	"go.yaml.in/yaml/v3"
)

// LoadError is one problem with one runbook file (or with the runbook
// directory itself). Load and Parse return their problems as *LoadError.
type LoadError struct {
	File string // file path, or "embedded:<name>.md" for the built-in defaults
	Line int    // 1-based line in File; 0 when the problem has no line
	Err  error
}

// Error formats the problem as "file:line: message" ("file: message" when
// there is no line), the format editors and CI annotate.
func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *LoadError) Unwrap() error { return e.Err }

// frontMatterKeys lists the allowed front-matter keys, in documentation order.
var frontMatterKeys = []string{"id", "title", "priority", "scenario", "first_response", "matchers", "aliases"}

var (
	slugRE      = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	yamlLineRE  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	maxIDLength = 64
)

// parsed is a Runbook plus the positions needed for cross-file errors.
type parsed struct {
	rb          *Runbook
	idLine      int
	aliasLines  map[string]int
	frontMatter int // line of the opening ---
}

// Parse parses one runbook file. source names the file in errors and becomes
// Runbook.Source. It reports every problem it finds, each with its line; the
// runbook is nil when there is any problem.
func Parse(source string, data []byte) (*Runbook, []error) {
	p, errs := parse(source, data)
	if len(errs) > 0 {
		return nil, errs
	}
	return p.rb, nil
}

func parse(source string, data []byte) (*parsed, []error) {
	var errs []error
	errf := func(line int, format string, args ...any) {
		errs = append(errs, &LoadError{File: source, Line: line, Err: fmt.Errorf(format, args...)})
	}

	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if !utf8.ValidString(text) {
		line := 1 + strings.Count(text[:firstInvalidUTF8(text)], "\n")
		errf(line, "file is not valid UTF-8")
		return nil, errs
	}
	lines := strings.Split(text, "\n")
	if strings.TrimRight(lines[0], " \t") != "---" {
		errf(1, "missing front matter: the first line must be ---")
		return nil, errs
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if l := strings.TrimRight(lines[i], " \t"); l == "---" || l == "..." {
			end = i
			break
		}
	}
	if end < 0 {
		errf(1, "front matter is not closed: no --- line after the opening one")
		return nil, errs
	}
	// YAML line n is file line n+offset (the opening --- is file line 1).
	const offset = 1

	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(strings.Join(lines[1:end], "\n")), &doc); err != nil {
		line, msg := yamlErrorLine(lines[1:end], err)
		errf(line+offset, "front matter: %s", msg)
		return nil, errs
	}

	rb := &Runbook{Source: source}
	p := &parsed{rb: rb, aliasLines: map[string]int{}, frontMatter: 1}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = resolve(doc.Content[0])
	}
	if root != nil && root.Kind != yaml.MappingNode {
		errf(root.Line+offset, "front matter must be a YAML mapping of key: value")
		return nil, errs
	}

	seen := map[string]int{}
	if root != nil {
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], resolve(root.Content[i+1])
			line, vline := k.Line+offset, v.Line+offset
			key := k.Value
			if first, dup := seen[key]; dup {
				errf(line, "duplicate key %q (first set on line %d)", key, first)
				continue
			}
			seen[key] = line
			switch key {
			case "id", "title", "priority", "scenario", "first_response":
				s, err := scalar(v)
				if err != nil {
					errf(vline, "%s: %v", key, err)
					continue
				}
				switch key {
				case "id":
					p.idLine = line
					switch {
					case s == "":
						errf(line, "id must not be empty")
					case len(s) > maxIDLength:
						errf(line, "id %q is longer than %d characters", s, maxIDLength)
					case !slugRE.MatchString(s):
						errf(line, "id %q is not a slug (lowercase letters, digits and single hyphens, e.g. service-down)", s)
					default:
						rb.ID = s
					}
				case "title":
					if s == "" {
						errf(line, "title must not be empty")
					} else if strings.Contains(s, "\n") {
						errf(line, "title must be a single line")
					} else {
						rb.Title = s
					}
				case "priority":
					if pr := strings.ToUpper(s); priorityRank(pr) < 0 {
						errf(line, "priority %q must be one of P0, P1, P2, P3", s)
					} else {
						rb.Priority = pr
					}
				case "scenario":
					rb.Scenario = s
				case "first_response":
					if strings.Contains(s, "\n") {
						errf(line, "first_response must be a single line")
					} else {
						rb.FirstResponse = s
					}
				}
			case "matchers":
				items, err := sequence(v)
				if err != nil {
					errf(vline, "matchers: %v", err)
					continue
				}
				for _, it := range items {
					s, err := scalar(it)
					if err == nil && s == "" {
						err = errors.New("empty matcher")
					}
					if err != nil {
						errf(it.Line+offset, "matchers: %v", err)
						continue
					}
					ms, err := labels.ParseMatchers(s)
					if err == nil && len(ms) == 0 {
						err = errors.New("no matcher found")
					}
					if err != nil {
						errf(it.Line+offset, "bad matcher %q: %v", s, err)
						continue
					}
					rb.Matchers = append(rb.Matchers, ms...)
				}
			case "aliases":
				items, err := sequence(v)
				if err != nil {
					errf(vline, "aliases: %v", err)
					continue
				}
				for _, it := range items {
					s, err := scalar(it)
					if err == nil && s == "" {
						err = errors.New("empty alias")
					} else if err == nil && strings.Contains(s, "\n") {
						err = errors.New("alias must be a single line")
					}
					if err != nil {
						errf(it.Line+offset, "aliases: %v", err)
						continue
					}
					a := normalizeKey(s)
					if _, dup := p.aliasLines[a]; dup || a == rb.ID {
						continue
					}
					p.aliasLines[a] = it.Line + offset
					rb.Aliases = append(rb.Aliases, a)
				}
			default:
				msg := fmt.Sprintf("unknown front-matter key %q", key)
				if s := suggestKey(key); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else {
					msg += " (allowed: " + strings.Join(frontMatterKeys, ", ") + ")"
				}
				errf(line, "%s", msg)
			}
		}
	}
	for _, k := range []string{"id", "title", "priority"} {
		if _, ok := seen[k]; !ok {
			errf(p.frontMatter, "missing required front-matter key %q", k)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}

	rb.Body = strings.TrimRight(strings.TrimLeft(strings.Join(lines[end+1:], "\n"), "\n"), " \t\n")
	rb.Steps = extractSteps(rb.Body)
	return p, nil
}

// yamlErrorLine returns the 1-based line of a YAML syntax error in lines,
// and its message. yaml.v3 reports the line of the enclosing construct, and
// 0-based for some errors, so the line is found as the shortest prefix of
// lines that fails with the same message.
func yamlErrorLine(lines []string, err error) (int, string) {
	msg := yamlMessage(err)
	if len(lines) <= 500 {
		var n yaml.Node
		for i := 1; i <= len(lines); i++ {
			if e := yaml.Unmarshal([]byte(strings.Join(lines[:i], "\n")), &n); e != nil && yamlMessage(e) == msg {
				return i, msg
			}
		}
	}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return max(n, 1), msg
	}
	return 1, msg
}

// yamlMessage strips the "yaml: line N: " prefix from a yaml.v3 error.
func yamlMessage(err error) string {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		return m[2]
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

func firstInvalidUTF8(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return len(s)
}

// resolve follows YAML aliases (*anchor) to the node they point to.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// scalar returns a trimmed scalar value; null is "".
func scalar(n *yaml.Node) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		return "", errors.New("must be a plain value, not a list or mapping")
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(n.Value), nil
}

// sequence returns the items of a YAML list; null is an empty list.
func sequence(n *yaml.Node) ([]*yaml.Node, error) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errors.New("must be a list (one \"- item\" per line)")
	}
	return n.Content, nil
}

// suggestKey returns the allowed key closest to a misspelt one, or "".
func suggestKey(key string) string {
	k := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	for _, allowed := range frontMatterKeys {
		if k == allowed || editDistance(k, allowed) <= 2 {
			return allowed
		}
	}
	return ""
}

var (
	atxHeadingRE = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	listItemRE   = regexp.MustCompile(`^([ \t]*)(\d{1,9}[.)]|[-*+])(?:[ \t]+(.*))?$`)
	checkboxRE   = regexp.MustCompile(`^\[[ xX]\](?:[ \t]+|$)`)
	fenceRE      = regexp.MustCompile("^[ \t]*(`{3,}|~{3,})")
)

// extractSteps returns the top-level items of the first list (ordered,
// checklist or bullet) in the section under the first heading named "Steps".
// Nested items are details and are not steps; continuation lines are joined
// to their item. Fenced code blocks are ignored.
func extractSteps(body string) []string {
	var (
		steps     []string
		fence     string // open fence marker, "" when outside a fence
		stepLevel int    // heading level of "Steps"; 0 until found
		kind      byte   // 'o' ordered or 'b' bullet once the list started
		indent    int    // indentation of the list's top-level items
		blank     bool   // previous line was blank
		nested    bool   // inside a nested item (its lines are not step text)
	)
	for _, line := range strings.Split(body, "\n") {
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			if fence == "" {
				if kind != 0 && blank && indentWidth(line) < indent+2 {
					return steps // an unindented code block ends the list
				}
				fence = m[1]
			} else if strings.HasPrefix(m[1], fence[:1]) && len(m[1]) >= len(fence) {
				fence = ""
			}
			continue
		}
		if fence != "" {
			continue
		}
		if m := atxHeadingRE.FindStringSubmatch(line); m != nil {
			level := len(m[1])
			if kind != 0 {
				return steps
			}
			if stepLevel > 0 && level <= stepLevel {
				return steps // section ended without a list
			}
			if stepLevel == 0 && strings.EqualFold(strings.TrimSuffix(strings.TrimSpace(m[2]), ":"), "steps") {
				stepLevel = level
			}
			continue
		}
		if stepLevel == 0 {
			continue
		}
		if strings.TrimSpace(line) == "" {
			blank = kind != 0
			continue
		}
		if m := listItemRE.FindStringSubmatch(line); m != nil {
			w := indentWidth(m[1])
			k := byte('b')
			if m[2][0] >= '0' && m[2][0] <= '9' {
				k = 'o'
			}
			switch {
			case kind == 0 && w <= 3:
				kind, indent = k, w
			case kind != 0 && w >= indent+2:
				blank, nested = false, true
				continue // nested item: detail, not a step
			case kind != 0 && k != kind:
				return steps // a different list starts
			case kind == 0:
				continue // indented code, not a list
			}
			blank, nested = false, false
			if text := strings.TrimSpace(checkboxRE.ReplaceAllString(strings.TrimSpace(m[3]), "")); text != "" {
				steps = append(steps, text)
			}
			continue
		}
		if kind == 0 {
			continue
		}
		if indentWidth(line) >= indent+2 || !blank {
			// Continuation of the current item (indented or lazy).
			if !blank && !nested && len(steps) > 0 {
				steps[len(steps)-1] += " " + strings.TrimSpace(line)
			}
			continue
		}
		return steps // unindented paragraph after a blank line ends the list
	}
	return steps
}

func indentWidth(s string) int {
	w := 0
	for _, r := range s {
		switch r {
		case ' ':
			w++
		case '\t':
			w += 4 - w%4
		default:
			return w
		}
	}
	return w
}
