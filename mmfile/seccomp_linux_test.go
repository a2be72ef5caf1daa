package mmfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompEnv, set in the environment of the test binary to an errno's
// name, makes it refuse pwritev2(2) with that errno before any test runs,
// as a container's seccomp profile may while it allows pwrite(2).
const seccompEnv = "MMAPKIT_TEST_REFUSE_PWRITEV2"

// seccompErrnos are the answers of the profiles that refuse a call: EPERM
// (Docker's default), ENOSYS (as for a call the kernel lacks) and EACCES.
var seccompErrnos = []unix.Errno{unix.EPERM, unix.ENOSYS, unix.EACCES}

// refuseWritesEnv, set to an errno's name, makes the test binary refuse
// with it every pwritev2(2) that has something to write, as a security
// module refuses a write to a file, and allow the others.
const refuseWritesEnv = "MMAPKIT_TEST_REFUSE_PWRITEV2_WRITES"

func init() {
	if name := os.Getenv(refuseWritesEnv); name != "" {
		if err := installFilter(nonEmptyPwritev2Filter(errnoNamed(name))); err != nil {
			fmt.Fprintln(os.Stderr, "installing a seccomp filter:", err)
			os.Exit(3)
		}
	}
	if name := os.Getenv(seccompEnv); name != "" {
		refuseWith(errnoNamed(name))
	}
}

// errnoNamed is the errno of seccompErrnos that name names.
func errnoNamed(name string) unix.Errno {
	for _, e := range seccompErrnos {
		if unix.ErrnoName(e) == name {
			return e
		}
	}
	fmt.Fprintf(os.Stderr, "%s: not one of %v\n", name, seccompErrnos)
	os.Exit(3)
	return 0
}

// nonEmptyPwritev2Filter fails with errno each pwritev2 whose iovcnt
// (args[2], whose low half is enough) is not 0.
func nonEmptyPwritev2Filter(errno unix.Errno) []unix.SockFilter {
	iovcnt := uint32(32) // struct seccomp_data: args[2] at 32, its low half first
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		iovcnt += 4
	}
	return []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 3, K: unix.SYS_PWRITEV2},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: iovcnt},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, Jf: 0, K: 0},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(errno)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
}

// refuseWith installs the filter that fails pwritev2 with errno, and
// checks that it does.
func refuseWith(errno unix.Errno) {
	if err := RefuseSyscall(unix.SYS_PWRITEV2, errno); err != nil {
		fmt.Fprintln(os.Stderr, "installing a seccomp filter:", err)
		os.Exit(3)
	}
	// The filter answers before the kernel looks at the descriptor:
	// without it, this is EBADF.
	if _, err := unix.Pwritev2(-1, [][]byte{{0}}, 0, 0); err != errno {
		fmt.Fprintf(os.Stderr, "pwritev2 under the seccomp filter: %v; want %v\n", err, errno)
		os.Exit(3)
	}
}

// RefuseSyscall installs, on every thread of the process, a seccomp filter
// that fails the system call nr with errno and allows every other call,
// as a container's profile may. It looks at the call's number only: a Go
// program makes no calls of another architecture's table. (For the tests
// of package mmfile_test too.)
func RefuseSyscall(nr uint32, errno unix.Errno) error {
	return installFilter([]unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: nr},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(errno)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	})
}

// installFilter installs the seccomp filter on every thread.
func installFilter(filter []unix.SockFilter) error {
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl no_new_privs: %v", err)
	}
	// With TSYNC, a thread that cannot take the filter is named by its
	// id in the return value, with no errno, and no thread takes it.
	if tid, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); e != 0 {
		return fmt.Errorf("seccomp: %v", e)
	} else if tid != 0 {
		return fmt.Errorf("seccomp: thread %d cannot take the filter", tid)
	}
	runtime.KeepAlive(filter)
	return nil
}

// TestWritesWhenSeccompRefusesPwritev2 runs write tests again in a process
// whose seccomp filter fails pwritev2 (with EPERM, ENOSYS, then EACCES):
// the writes must fall back to pwrite and land where os.File's land, and a
// Map'd descriptor put in append mode must fail with ErrBadFlag, as on a
// kernel without RWF_NOAPPEND, rather than append or fail with the errno.
func TestWritesWhenSeccompRefusesPwritev2(t *testing.T) {
	for _, errno := range seccompErrnos {
		t.Run(unix.ErrnoName(errno), func(t *testing.T) {
			// Each child learns once that pwritev2 is refused: the
			// plain writes run in one of their own, so that their
			// first write meets the refusal, not the append-mode
			// test's.
			run := func(tests ...string) string {
				cmd := exec.Command(os.Args[0], "-test.run", "^("+strings.Join(tests, "|")+")$", "-test.v", "-test.count=1")
				cmd.Env = append(os.Environ(), seccompEnv+"="+unix.ErrnoName(errno))
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%v under the filter: %v\n%s", tests, err, out)
				}
				for _, name := range tests {
					if !strings.Contains(string(out), "--- PASS: "+name+" ") {
						t.Errorf("%s did not pass under the filter:\n%s", name, out)
					}
				}
				return string(out)
			}
			run("TestGrowthLikeOSFile", "TestLargeWritesCoherent", "TestWriteIntoHoleLandsAsOSFile")
			out := run("TestMapWritesAtOffsetAfterCallerSetsAppend")
			// The subtest that leaves the kernel to decide must have
			// been refused.
			const sub = "=== RUN   TestMapWritesAtOffsetAfterCallerSetsAppend/RWF_NOAPPEND\n"
			_, rest, _ := strings.Cut(out, sub)
			block, _, _ := strings.Cut(rest, "=== RUN")
			if !strings.Contains(block, "RWF_NOAPPEND refused: true") {
				t.Errorf("under the filter, the append-mode writes did not take the path of a refused RWF_NOAPPEND:\n%s", out)
			}
		})
	}
}

// TestWriteRefusedByAFilterIsReturned: where a filter refuses the writes
// of pwritev2 (EACCES, as a security module answers, or EPERM) but not the
// call itself, a write must fail with that errno, having written nothing,
// and the process must keep RWF_NOAPPEND: the empty pwritev2 that tells a
// refused call from a refused write succeeds. The test runs itself in a
// child under the filter for each errno.
func TestWriteRefusedByAFilterIsReturned(t *testing.T) {
	if name := os.Getenv(refuseWritesEnv); name != "" {
		path := filepath.Join(t.TempDir(), "f")
		f, err := Create(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		n, err := f.WriteAt([]byte("hello"), 100) // a growth: by pwrite
		if n != 0 || !errors.Is(err, errnoNamed(name)) {
			t.Errorf("WriteAt under a filter refusing writes with %s = %d, %v; want 0 and %s", name, n, err, name)
		}
		if noAppendRefused.Load() {
			t.Errorf("a write refused with %s turned RWF_NOAPPEND off for the process", name)
		}
		return
	}
	for _, errno := range []unix.Errno{unix.EACCES, unix.EPERM} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestWriteRefusedByAFilterIsReturned$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), refuseWritesEnv+"="+unix.ErrnoName(errno))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestWriteRefusedByAFilterIsReturned ") {
			t.Errorf("under a filter refusing writes with %s: %v\n%s", unix.ErrnoName(errno), err, out)
		}
	}
}
