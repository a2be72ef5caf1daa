package apitest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// DocLinksMethods checks that the doc comment of the type typ, declared in
// the package in directory dir, links every exported method of
// embedded as [prefix.Method] (prefix "ioadapt.IO"), and no method it
// lacks: the type's documentation of its promoted methods is then
// complete and true, whatever methods are added or removed later, since
// go doc shows none of them on the embedding type.
func DocLinksMethods(t *testing.T, dir, typ, prefix string, embedded reflect.Type) {
	t.Helper()
	doc := typeDoc(t, dir, typ)
	link := regexp.MustCompile(`\[` + regexp.QuoteMeta(prefix) + `\.(\w+)\]`)
	var linked []string
	for _, m := range link.FindAllStringSubmatch(doc, -1) {
		if !slices.Contains(linked, m[1]) {
			linked = append(linked, m[1])
		}
	}
	var methods []string
	for i := range embedded.NumMethod() {
		methods = append(methods, embedded.Method(i).Name)
	}
	for _, m := range methods {
		if !slices.Contains(linked, m) {
			t.Errorf("the doc of %s does not link [%s.%s]", typ, prefix, m)
		}
	}
	for _, l := range linked {
		if !slices.Contains(methods, l) {
			t.Errorf("the doc of %s links [%s.%s], which is no method", typ, prefix, l)
		}
	}
}

// typeDoc returns the doc comment of the type typ in the non-test files of
// directory dir.
func typeDoc(t *testing.T, dir, typ string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				if ts := s.(*ast.TypeSpec); ts.Name.Name == typ {
					return g.Doc.Text()
				}
			}
		}
	}
	t.Fatalf("no type %s declared in %s", typ, files)
	return ""
}
