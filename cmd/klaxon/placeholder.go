package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// placeholderID matches the made-up Discord ids of the shipped example
// configuration (deploy/klaxon.example.yaml and the Kubernetes ConfigMap):
// 1 and twelve zeros, then five digits (100000000000000010 is #alerts-critical
// there). A real snowflake in that range would have been minted within the
// same quarter of a millisecond in October 2015: none of a new user's ids is.
var placeholderID = regexp.MustCompile(`^1000000000000[0-9]{5}$`)

// idRef is a value in the YAML document, with its path and line.
type idRef struct {
	Path  string // YAML path, e.g. priorities.P0.channel or schedules[0].participants[1]
	Line  int
	Value string
}

// placeholderIDs lists every key or value of the document that is one of
// the example's placeholder ids, in document order.
func placeholderIDs(root *yaml.Node) []idRef {
	var out []idRef
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := joinPath(path, k.Value)
				if placeholderID.MatchString(k.Value) {
					out = append(out, idRef{Path: p, Line: k.Line, Value: k.Value})
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		case yaml.ScalarNode:
			if placeholderID.MatchString(n.Value) {
				out = append(out, idRef{Path: path, Line: n.Line, Value: n.Value})
			}
		}
	}
	walk(root, "")
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// placeholderProblem is one problem naming the placeholder ids found (at
// most three, then how many more), or ok false when there are none.
// serve refuses them; check-config warns (the shipped example has them).
func (c *Config) placeholderProblem(warning bool) (Problem, bool) {
	refs := placeholderIDs(&c.root)
	if len(refs) == 0 {
		return Problem{}, false
	}
	var where []string
	for _, r := range refs[:min(3, len(refs))] {
		where = append(where, fmt.Sprintf("%s %s (line %d)", r.Path, r.Value, r.Line))
	}
	more := ""
	if len(refs) > 3 {
		more = fmt.Sprintf(" and %d more", len(refs)-3)
	}
	return Problem{File: c.file, Line: refs[0].Line, Warning: warning, Message: fmt.Sprintf(
		"%d placeholder Discord id(s) from the example configuration: %s%s; `klaxon init --guild <your server id>` writes a configuration with your server's channels and roles",
		len(refs), strings.Join(where, ", "), more)}, true
}
