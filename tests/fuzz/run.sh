#!/bin/sh
# Runs each libFuzzer target for a fixed time on a scratch copy of its seed corpus, then prints
# one summary line "N passed, N failed" (one count per target). A crash or sanitizer report
# fails the target; the reproducer is kept as OUT/crash-<target>-*.
# Usage: tests/fuzz/run.sh OUT SECONDS TARGET...
out=$1
secs=$2
shift 2
here=$(dirname "$0")
passed=0
failed=0
for t in "$@"; do
	corpus=$out/corpus/$t
	rm -rf "$corpus"
	mkdir -p "$corpus"
	if [ -d "$here/corpus/$t" ]; then
		cp "$here/corpus/$t"/* "$corpus"/
	else
		python3 "$here/mkseeds.py" "$out/seeds" && cp "$out/seeds/$t"/* "$corpus"/
	fi
	log=$out/fuzz_$t.log
	echo "fuzz_$t: fuzzing for ${secs}s (log: $log)"
	"$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$out/crash-$t-" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$t: passed (${runs:-?} runs, corpus $(ls "$corpus" | wc -l) inputs)"
		passed=$((passed + 1))
	else
		echo "fuzz_$t: FAILED (exit status $rc); end of $log:"
		tail -n 40 "$log" | sed "s|^|fuzz_$t: |"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
