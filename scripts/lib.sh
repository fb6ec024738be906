# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the scripts here and by tests/vm/run: run a step with its output in
# a log, and never hide why it failed.

# run_logged LOG HINT COMMAND...: COMMAND (stdin closed) with stdout and stderr in
# LOG; on failure, the step, the log's last lines, where the whole log is, and
# HINT (what to do), all on stderr. Returns COMMAND's status.
run_logged() {
	local log=$1 hint=$2 rc=0
	shift 2
	"$@" >"$log" 2>&1 </dev/null || rc=$?
	if ((rc)); then
		{
			printf '%s: `%s` failed (exit %d); the last lines of its log:\n' \
				"${0##*/}" "$*" "$rc"
			tail -n 30 "$log" | sed 's/^/  | /'
			printf '%s: the whole log: %s\n' "${0##*/}" "$log"
			printf '%s: %s\n' "${0##*/}" "$hint"
		} >&2
	fi
	return "$rc"
}
