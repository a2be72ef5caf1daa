//go:build !linux && !windows

package sys

// procUnsupported adds the process calls, which this system lacks too.
func procUnsupported(errs map[string]error) {
	_, errs["OpenPidfd"] = OpenPidfd(1)
	_, _, errs["ProcStat"] = ProcStat(1)
	_, errs["PidNamespace"] = PidNamespace()
}
