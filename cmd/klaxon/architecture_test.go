package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// ARCHITECTURE.md's package map lists exactly the packages there are: a
// package that lands needs its line there, and a line for a package that is
// gone must go.
func TestArchitectureListsEveryPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The first code block after "## Packages": a line that starts with a
	// path (or "a, b") names packages; indented lines continue it.
	text := string(doc)
	i := strings.Index(text, "## Packages")
	if i < 0 {
		t.Fatal(`ARCHITECTURE.md has no "## Packages" section`)
	}
	block := text[i:]
	start := strings.Index(block, "```\n")
	end := strings.Index(block[start+4:], "```")
	if start < 0 || end < 0 {
		t.Fatal("the package map's code block is not closed")
	}
	entry := regexp.MustCompile(`^(\S+(?:, \S+)*)(?:\s{2,}|$)`)
	var listed []string
	for _, line := range strings.Split(block[start+4:start+4+end], "\n") {
		if m := entry.FindStringSubmatch(line); m != nil {
			listed = append(listed, strings.Split(m[1], ", ")...)
		}
	}

	// The packages: directories with Go files (testdata aside).
	var pkgs []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); !slices.Contains(pkgs, rel) {
			pkgs = append(pkgs, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 20 {
		t.Fatalf("found only %d packages: %v", len(pkgs), pkgs)
	}
	for _, p := range pkgs {
		if !slices.Contains(listed, p) {
			t.Errorf("package %s is not in ARCHITECTURE.md's package map", p)
		}
	}
	for _, p := range listed {
		if !slices.Contains(pkgs, p) {
			t.Errorf("ARCHITECTURE.md lists %s, which is not a package", p)
		}
	}
}
