// Package apitest calls every exported method of a value, for the tables
// that check a rule of the whole API: after Close every method fails with
// fs.ErrClosed, on a nil receiver every method fails with os.ErrInvalid.
// Going through reflection keeps such a table complete: a method added
// later is called too.
package apitest

import (
	"reflect"
	"testing"
)

// Result is what one method returned.
type Result struct {
	// Err is the method's error result; HasErr is false for a method that
	// returns none.
	Err    error
	HasErr bool
	// Others are the results that are not the error.
	Others []reflect.Value
}

var errorType = reflect.TypeFor[error]()

// CallEvery calls every exported method of x with zero arguments (nil
// slices, readers and functions, zero numbers) and returns what each
// returned, by method name. A method that panics is reported as a test
// error and left out of the map.
func CallEvery(t *testing.T, x any) map[string]Result {
	t.Helper()
	v := reflect.ValueOf(x)
	out := make(map[string]Result)
	for i := range v.NumMethod() {
		m := v.Type().Method(i)
		args := make([]reflect.Value, m.Type.NumIn()-1)
		for j := range args {
			args[j] = reflect.Zero(m.Type.In(j + 1))
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s panicked: %v", m.Name, r)
				}
			}()
			var res Result
			for _, r := range v.Method(i).Call(args) {
				if r.Type() == errorType {
					res.Err, _ = r.Interface().(error)
					res.HasErr = true
				} else {
					res.Others = append(res.Others, r)
				}
			}
			out[m.Name] = res
		}()
	}
	return out
}
