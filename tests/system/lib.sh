# Helpers for system test cases (sourced by run.sh and by later suites).
# A case is a shell function named case_*; it calls boot, then expect_* on serial.log.

case_dir="" case_failed=0

# boot [boot.sh options]: boots into this case's artifact directory
boot() {
	"$root/tests/system/boot.sh" --out "$case_dir" "$@"
	local rc=$?
	if [ $rc -eq 124 ]; then
		note "timed out"
		case_failed=1
	elif [ $rc -eq 2 ]; then
		note "could not start the emulator"
		case_failed=1
	fi
}

note() { echo "    $*"; }

expect_fixed() {
	grep -qF -- "$1" "$case_dir/serial.log" 2>/dev/null && return
	note "missing: $1"
	case_failed=1
}

expect_regex() {
	grep -qE -- "$1" "$case_dir/serial.log" 2>/dev/null && return
	note "missing (regex): $1"
	case_failed=1
}

expect_not_fixed() {
	grep -qF -- "$1" "$case_dir/serial.log" 2>/dev/null || return
	note "unexpected: $1"
	case_failed=1
}

expect_not_regex() {
	grep -qE -- "$1" "$case_dir/serial.log" 2>/dev/null || return
	note "unexpected (regex): $1"
	case_failed=1
}

# expect_result PASS|FAIL: the final line the hypervisor prints before powering off
expect_result() {
	expect_regex "^hv: result: $1"
}

run_cases() {
	local cases=("$@") pass=0 fail=0 t0
	# case_X run by default; opt_X only when named (their SKIP line says so)
	if [ ${#cases[@]} -eq 0 ]; then
		mapfile -t cases < <(declare -F | awk '$3 ~ /^case_/ { print substr($3, 6) }')
		declare -F | awk '$3 ~ /^opt_/ { print "SKIP system/" substr($3, 5) " (optional: name it to run it)" }'
	fi
	make -s -C "$root" all dom0 >/dev/null || { echo "system: build failed"; echo "0 passed, 1 failed"; return 1; }
	for c in "${cases[@]}"; do
		case_dir="$art/$c" case_failed=0
		rm -rf "$case_dir"
		mkdir -p "$case_dir"
		t0=$(date +%s)
		if declare -F "case_$c" >/dev/null; then
			"case_$c"
		elif declare -F "opt_$c" >/dev/null; then
			"opt_$c"
		else
			echo "no system case named $c" >"$case_dir/serial.log"
			case_failed=1
		fi
		if [ $case_failed -eq 0 ]; then
			echo "PASS system/$c ($(($(date +%s) - t0)) s)"
			pass=$((pass + 1))
		else
			echo "FAIL system/$c ($(($(date +%s) - t0)) s); serial.log tail:"
			tail -n 15 "$case_dir/serial.log" 2>/dev/null | sed 's/^/    | /'
			fail=$((fail + 1))
		fi
	done
	echo "$pass passed, $fail failed"
	[ $fail -eq 0 ]
}
