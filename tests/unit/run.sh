#!/bin/sh
# Runs cmocka test binaries (TAP output), then prints one summary line "N passed, N failed".
# A binary that dies (sanitizer report, signal) counts every test it did not report as failed.
# Usage: tests/unit/run.sh BINARY...
passed=0
failed=0
status=0
for bin in "$@"; do
	name=$(basename "$bin")
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed "s|^|$name: |"
	plan=$(printf '%s\n' "$out" | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | head -n 1)
	ok=$(printf '%s\n' "$out" | grep -c '^ok ')
	notok=$(printf '%s\n' "$out" | grep -c '^not ok ')
	lost=0
	if [ "$rc" -ne 0 ]; then
		status=1
		# tests that never reported (the binary died) count as failed
		lost=$((${plan:-0} - ok - notok))
		[ "$lost" -lt 0 ] && lost=0
		[ "$notok" -eq 0 ] && [ "$lost" -eq 0 ] && lost=1
		echo "$name: exited with status $rc ($notok failed, $lost did not finish)"
	fi
	passed=$((passed + ok))
	failed=$((failed + notok + lost))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
