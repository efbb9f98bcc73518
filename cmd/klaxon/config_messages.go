package main

// Offline check-config messages: YAML paths instead of Go type names, the
// nearest known key for a misspelt one, and YAML syntax errors placed on the
// line whose indentation is wrong.

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// sectionKeys maps each configuration struct's Go type name to the YAML keys
// it accepts, built once from the Config type.
var sectionKeys = func() map[string][]string {
	out := map[string][]string{}
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		var keys []string
		for i := range t.NumField() {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			keys = append(keys, tag)
			visit(f.Type)
		}
		sort.Strings(keys)
		out[t.Name()] = keys
	}
	visit(reflect.TypeOf(Config{}))
	return out
}()

var (
	unknownField = regexp.MustCompile(`^field (\S+) not found in type main\.(\w+)$`)
	badValue     = regexp.MustCompile(`^"(.*)" is not a `)
	cannotDecode = regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`(.*)` )?into (\\S+)$")
)

// rewriteYAMLMessage turns one yaml.v3 decoding message at line into the
// check-config message: the key's YAML path, what is wrong, and for an
// unknown key the nearest known one.
func (c *Config) rewriteYAMLMessage(line int, msg string) string {
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		key, section := m[1], m[2]
		path := c.keyPath(line, key)
		out := fmt.Sprintf("%s: unknown key", path)
		if s := nearest(key, sectionKeys[section]); s != "" {
			return out + fmt.Sprintf("; did you mean %s?", s)
		}
		if keys := sectionKeys[section]; len(keys) > 0 {
			parent := strings.TrimSuffix(strings.TrimSuffix(path, key), ".")
			if parent == "" {
				parent = "the top level"
			}
			return out + fmt.Sprintf(" (%s takes %s)", parent, strings.Join(keys, ", "))
		}
		return out
	}
	if m := badValue.FindStringSubmatch(msg); m != nil {
		return c.valuePath(line, m[1]) + ": " + msg
	}
	if m := cannotDecode.FindStringSubmatch(msg); m != nil {
		path := c.valuePath(line, m[2])
		want := goTypeWords(m[3])
		got := fmt.Sprintf("%q", m[2])
		switch m[1] {
		case "map":
			got = "a mapping (key: value lines)"
		case "seq":
			got = "a list"
		}
		return fmt.Sprintf("%s: expected %s, not %s", path, want, got)
	}
	return msg
}

// goTypeWords says what a Go type is in configuration words.
func goTypeWords(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "main."), strings.HasPrefix(t, "*main."):
		return "a mapping (key: value lines)"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a text value"
	}
	return "a " + t
}

// keyPath is the YAML path of the mapping key named key at line, or "line
// N" when there is none.
func (c *Config) keyPath(line int, key string) string {
	var found string
	walkYAML(&c.root, "", func(n, k *yaml.Node, path string) {
		if found == "" && k != nil && k.Line == line && k.Value == key {
			found = path
		}
	})
	if found == "" {
		return key
	}
	return found
}

// valuePath is the YAML path of the scalar value at line, or "line N".
func (c *Config) valuePath(line int, value string) string {
	var scalar, other string
	walkYAML(&c.root, "", func(n, k *yaml.Node, path string) {
		switch {
		case n.Line != line:
		case n.Kind == yaml.ScalarNode && n.Value == value && scalar == "":
			scalar = path
		case n.Kind != yaml.ScalarNode && other == "":
			other = path
		}
	})
	found := scalar
	if found == "" {
		found = other
	}
	if found == "" {
		return "line " + strconv.Itoa(line)
	}
	return found
}

// walkYAML calls fn for every node below n with its path (and, for mapping
// values, its key), in document order.
func walkYAML(n *yaml.Node, path string, fn func(n, key *yaml.Node, path string)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkYAML(c, path, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinPath(path, k.Value)
			fn(v, k, p)
			walkYAML(v, p, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			fn(c, nil, p)
			walkYAML(c, p, fn)
		}
	}
}

// nearest is the known key closest to key (optimal string alignment
// distance: insertions, deletions, substitutions and swaps of neighbours),
// when it is close enough to be a typo: at most 1 edit for keys of up to 4
// letters, 2 up to 8, else 3. "" otherwise.
func nearest(key string, known []string) string {
	best, bestD := "", 1<<30
	limit := 3
	switch n := len([]rune(key)); {
	case n <= 4:
		limit = 1
	case n <= 8:
		limit = 2
	}
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestD && d <= limit {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// badIndentation finds the first line whose indentation fits no enclosing
// key: indented deeper than the line before when that line opens nothing,
// or back out to a column no key above it starts at. yaml.v3 reports these
// at the start of the enclosing mapping; this names the line to fix.
func badIndentation(data []byte) (line int, msg string) {
	stack := []int{0} // indentation of the open levels
	opens := false    // the previous line ends with a key and no value
	block := -1       // inside a block scalar (| or >) of a key at this indentation
	for i, raw := range strings.Split(string(data), "\n") {
		text := strings.TrimRight(raw, " \t\r")
		trimmed := strings.TrimLeft(text, " ")
		ind := len(text) - len(trimmed)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || trimmed == "---" {
			continue
		}
		if block >= 0 {
			if ind > block {
				continue
			}
			block = -1
		}
		// "- key: v": the item's keys sit two columns further in.
		itemInd := ind
		for strings.HasPrefix(trimmed, "- ") || trimmed == "-" {
			trimmed = strings.TrimLeft(strings.TrimPrefix(trimmed, "-"), " ")
			itemInd = len(text) - len(trimmed)
		}
		switch {
		case opens && ind > stack[len(stack)-1]:
			stack = append(stack, ind)
		case ind > stack[len(stack)-1]:
			return i + 1, fmt.Sprintf("this line is indented %d spaces, deeper than the line before, which opens no section: indent it like the key it belongs beside", ind)
		default:
			for len(stack) > 1 && stack[len(stack)-1] > ind {
				stack = stack[:len(stack)-1]
			}
			if stack[len(stack)-1] != ind {
				return i + 1, fmt.Sprintf("this line is indented %d spaces, which matches no key above it: indent it like the key it belongs beside", ind)
			}
		}
		if itemInd != ind {
			stack = append(stack, itemInd)
		}
		body := stripComment(trimmed)
		opens = strings.HasSuffix(body, ":")
		if strings.HasSuffix(body, ": |") || strings.HasSuffix(body, ": >") || strings.HasSuffix(body, ": |-") || strings.HasSuffix(body, ": >-") {
			block = itemInd
		}
	}
	return 0, ""
}

// stripComment drops a trailing " # comment" outside quotes.
func stripComment(s string) string {
	inS, inD := false, false
	for i, r := range s {
		switch {
		case r == '\'' && !inD:
			inS = !inS
		case r == '"' && !inS:
			inD = !inD
		case r == '#' && !inS && !inD && i > 0 && s[i-1] == ' ':
			return strings.TrimRight(s[:i], " ")
		}
	}
	return s
}

// pathPrefix is the "where: " that starts most messages.
var pathPrefix = regexp.MustCompile(`^(schedule \S+|[\w.\[\]-]+): `)

// withoutCascades drops an error that says the same as an earlier one about
// another place: a value inherited from elsewhere (a bad reminders.time_zone
// read by every reminder) is reported once, where it is written.
func withoutCascades(ps Problems) Problems {
	seen := map[string]bool{}
	out := ps[:0:0]
	for _, p := range ps {
		what := pathPrefix.ReplaceAllString(p.Message, "")
		if !p.Warning && what != p.Message {
			if seen[what] {
				continue
			}
			seen[what] = true
		}
		out = append(out, p)
	}
	return out
}
