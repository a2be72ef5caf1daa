package apitest_test

import (
	"reflect"
	"testing"

	"github.com/mmapkit/mmapkit/internal/apitest"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestSegmentDocsListIO checks that the documentation of each segment type
// links every io method that it promotes from the embedded IO, and nothing
// else: go doc shows none of them on the segment itself.
func TestSegmentDocsListIO(t *testing.T) {
	for _, dir := range []string{"../../shm", "../../sysv"} {
		apitest.DocLinksMethods(t, dir, "Segment", "ioadapt.IO", reflect.TypeFor[*ioadapt.IO]())
	}
}
