package readme

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the module's root, from this package's directory.
const root = "../.."

// marker names the example that the Go block after it is cut from:
// <!-- example: mmfile ExampleOpenFile --> is the function ExampleOpenFile
// of a _test.go file in mmfile/.
var marker = regexp.MustCompile(`^<!-- example: (\S+) (Example\w*) -->$`)

// block is one fenced Go block of the README.
type block struct {
	line      int    // of the opening fence, from 1
	dir, name string // of the example it names; empty when none
	lines     []string
}

// goBlocks returns the ```go blocks of the Markdown file at path, each with
// the example named by a marker on the line just before its fence.
func goBlocks(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []block
		cur    *block
		prev   string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		case line == "```go":
			cur = &block{line: n}
			if m := marker.FindStringSubmatch(prev); m != nil {
				cur.dir, cur.name = m[1], m[2]
			}
		}
		prev = line
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: the go block is never closed", path, cur.line)
	}
	return blocks
}

// exampleBody returns the lines of the body of the function name in the
// _test.go files of dir, unindented by one tab, and whether it checks its
// output.
func exampleBody(dir, name string) (lines []string, checked bool, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, false, err
	}
	fset := token.NewFileSet()
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, false, err
		}
		// Build constraints do not matter here: an example for Linux
		// only is read on every system.
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return nil, false, err
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Name.Name != name || fn.Body == nil {
				continue
			}
			body := src[fset.Position(fn.Body.Lbrace).Offset+1 : fset.Position(fn.Body.Rbrace).Offset]
			for _, l := range strings.Split(strings.Trim(string(body), "\n"), "\n") {
				lines = append(lines, strings.TrimPrefix(l, "\t"))
			}
			return lines, bytes.Contains(body, []byte("// Output:")), nil
		}
	}
	return nil, false, fmt.Errorf("no func %s in %s/*_test.go", name, dir)
}

// index returns where sub starts as consecutive lines of lines, or -1.
func index(lines, sub []string) int {
	for i := 0; i+len(sub) <= len(lines); i++ {
		match := true
		for j := range sub {
			if lines[i+j] != sub[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// TestGoBlocksAreExamples checks that every Go block of README.md is cut
// from a runnable example: the block names it in a comment on the line
// before its fence,
//
//	<!-- example: mmfile ExampleOpenFile -->
//
// and its lines are consecutive lines of that example's body, as gofmt
// writes them less one tab of indentation. go test runs the example and
// compares its // Output:, which every named example must have, so a
// README block that compiles no more, or no longer does what its comments
// say, fails here or there.
func TestGoBlocksAreExamples(t *testing.T) {
	readme := filepath.Join(root, "README.md")
	blocks := goBlocks(t, readme)
	if len(blocks) == 0 {
		t.Fatalf("%s has no go blocks: is this the README that shows the examples?", readme)
	}
	for _, b := range blocks {
		if b.name == "" {
			t.Errorf("README.md:%d: a go block without a line <!-- example: DIR ExampleName --> before it; every block must be cut from an example", b.line)
			continue
		}
		body, checked, err := exampleBody(filepath.Join(root, b.dir), b.name)
		if err != nil {
			t.Errorf("README.md:%d: %v", b.line, err)
			continue
		}
		if !checked {
			t.Errorf("README.md:%d: %s/%s has no // Output: line, so go test does not check what it does", b.line, b.dir, b.name)
		}
		if len(b.lines) == 0 || index(body, b.lines) < 0 {
			t.Errorf("README.md:%d: the block is not cut from %s/%s: its lines must be consecutive lines of the example's body.\nREADME block:\n%s\nexample body:\n%s",
				b.line, b.dir, b.name, strings.Join(b.lines, "\n"), strings.Join(body, "\n"))
		}
	}
}
