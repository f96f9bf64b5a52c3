#!/usr/bin/env bash
# make test: every layer in turn (quality gates, unit, fuzz, make install's pieces, system), then
# one summary line.
# Each layer prints its own "N passed, N failed"; this script adds them up.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
total_pass=0 total_fail=0
layer() {
	local name=$1 log="build/test-$1.log" t0=$SECONDS
	shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local line
	line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	local p f
	p=$(echo "$line" | sed -nE 's/.*\b([0-9]+) passed.*/\1/p')
	f=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # a layer that broke counts as a failure
	echo "=== $name: $p passed, $f failed ($((SECONDS - t0)) s)"
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
}
layer build make -s all
layer check scripts/check.sh
layer unit make -s unit
layer fuzz make -s fuzz-short
layer install tests/install/run.sh
layer system tests/system/run.sh
make -s size
echo "$total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ]
