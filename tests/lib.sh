# shellcheck shell=bash
# Shared helpers for the tests/*.test scripts (bash).  Source it:
#
#   . "$(dirname "$0")/lib.sh"
#   run_guest tests/ring 0 "lguest: CRASH: done" $'ok a\nok b\n'
#   finish
#
# Every check prints one line, "PASS <name>" or "FAIL <name>: <why>", and
# finish exits non-zero if any check failed.

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
LGUEST=${LGUEST:-build/asan/bin/lguest}
SAMPLES=${SAMPLES:-build/samples}
# A guest that runs away is stopped by the launcher's own instruction limit
# (exit 4 names the eip), and a launcher that hangs by the host's timeout.
GUEST_MEM_MB=${GUEST_MEM_MB:-32}
GUEST_INSN_LIMIT=${GUEST_INSN_LIMIT:-50000000}
HOST_TIMEOUT=${HOST_TIMEOUT:-60}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

TEST_TMP=$(mktemp -d)
trap 'rm -rf "$TEST_TMP"' EXIT
failures=0
checks=0

# Record one passing check.
pass() {
	checks=$((checks + 1))
	echo "PASS $1"
}

# Record one failing check, with the reason on the same line.
fail() {
	checks=$((checks + 1))
	failures=$((failures + 1))
	echo "FAIL $1: $2"
}

# End the script: the exit status says whether anything failed.
finish() {
	if [ "$checks" = 0 ]; then
		echo "FAIL $(basename "$0"): no checks ran"
		exit 1
	fi
	[ "$failures" = 0 ]
}

# Run a command with the host timeout; leave its stdout, stderr and exit
# code in $TEST_TMP/out, $TEST_TMP/err and $RUN_RC.
run_capture() {
	timeout "$HOST_TIMEOUT" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	RUN_RC=$?
	RUN_OUT=$(cat "$TEST_TMP/out"; echo x)
	RUN_OUT=${RUN_OUT%x}
	RUN_ERR1=$(head -n 1 "$TEST_TMP/err")
}

# Quote a string on one line for a FAIL message (newlines shown as \n).
one_line() {
	local text=${1//$'\n'/\\n}
	printf '"%s"' "${text:0:300}"
}

# Compare the captured run with what was expected; one PASS or FAIL line.
# Arguments: NAME EXPECTED_EXIT EXPECTED_FIRST_STDERR_LINE [EXPECTED_STDOUT]
# A first line containing '*' is a glob pattern (other messages have no
# '*'); an omitted stdout is not checked.
check_run() {
	local name=$1 want_rc=$2 want_err=$3
	local why=""
	if [ "$RUN_RC" != "$want_rc" ]; then
		why="exit $RUN_RC, want $want_rc;"
	fi
	if [[ $want_err == *'*'* ]]; then
		# shellcheck disable=SC2053
		if [[ $RUN_ERR1 != $want_err ]]; then
			why="$why stderr line 1 $(one_line "$RUN_ERR1"), want pattern $(one_line "$want_err");"
		fi
	elif [ "$RUN_ERR1" != "$want_err" ]; then
		why="$why stderr line 1 $(one_line "$RUN_ERR1"), want $(one_line "$want_err");"
	fi
	if [ $# -ge 4 ] && [ "$RUN_OUT" != "$4" ]; then
		why="$why stdout differs:"
		why="$why $(diff <(printf '%s' "$4") <(printf '%s' "$RUN_OUT") | grep '^[<>]' | head -n 6 | tr '\n' '|')"
	fi
	if [ -z "$why" ]; then
		pass "$name"
	else
		fail "$name" "$why"
		sed 's/^/    stderr: /' "$TEST_TMP/err" | head -n 8
	fi
}

# Run a sample guest and check exit code, first stderr line and stdout.
#   run_guest NAME EXPECTED_EXIT EXPECTED_FIRST_STDERR_LINE [EXPECTED_STDOUT] [-- ARGS...]
# NAME is the guest's path under $SAMPLES without ".elf" (tests/ring,
# hello).  ARGS (options, then kernel arguments) follow the kernel file;
# the launcher's getopt permutes options found there.
run_guest() {
	local name=$1; shift
	local expect=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		expect+=("$1"); shift
	done
	[ "${1-}" = "--" ] && shift
	local elf="$SAMPLES/$name.elf"
	if [ ! -f "$elf" ]; then
		fail "$name" "$elf not built"
		return
	fi
	run_capture "$LGUEST" --max-insns="$GUEST_INSN_LIMIT" "$GUEST_MEM_MB" "$elf" "$@"
	check_run "$name${CHECK_SUFFIX:+ $CHECK_SUFFIX}" "${expect[@]}"
}

# Turn a self-checking guest's stdout into PASS/FAIL lines: each
# "ok <what>" passes "<label>: <what>", each "not ok <what>: <why>" fails.
# Other lines are left in $RUN_OTHER for the caller.  Then the guest must
# have powered off with "done" (exit 0): a guest that died half-way, or
# whose last check never ran, fails there.
report_guest_checks() {
	local label=$1 line
	RUN_OTHER=""
	while IFS= read -r line; do
		case $line in
		"ok "*) pass "$label: ${line#ok }" ;;
		"not ok "*)
			line=${line#not ok }
			local what=${line%%: got *}
			fail "$label: $what" "${line#"$what: "}"
			;;
		*) RUN_OTHER+="$line"$'\n' ;;
		esac
	done <<<"${RUN_OUT%$'\n'}"
	check_run "$label: powered off" 0 "lguest: CRASH: done"
}

# Run a self-checking guest (see samples/tests/common.h) and report its
# checks.  run_checked_guest NAME [ARGS...]; NAME as for run_guest.
run_checked_guest() {
	local name=$1; shift
	local elf="$SAMPLES/$name.elf"
	if [ ! -f "$elf" ]; then
		fail "$name" "$elf not built"
		return 1
	fi
	run_capture "$LGUEST" --max-insns="$GUEST_INSN_LIMIT" "$GUEST_MEM_MB" "$elf" "$@"
	report_guest_checks "$name"
}

# The address of a symbol in a guest ELF, as the launcher prints it (%#x).
symbol_address() {
	local addr
	addr=$(nm "$1" | awk -v s="$2" '$3 == s { print $1 }')
	printf '%#x' "$((16#${addr:-0}))"
}
