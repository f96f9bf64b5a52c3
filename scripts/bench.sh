#!/usr/bin/env bash
# make bench: boots the hypervisor in Bochs with `bench` and prints the exit costs the guest
# measured with RDTSC, as "name value unit" lines. In Bochs the TSC advances with the emulated
# instruction count (ips=50000000 and a 50 MHz TSC), so a cycle here is about one instruction:
# the figures are also the number of instructions on each exit's round trip.
set -uo pipefail
cd "$(dirname "$0")/.."
out=build/bench
make -s all || exit 1
tests/system/boot.sh --out "$out" --cmdline "poweroff bench loglevel=warn" --timeout 300
rc=$?
if ! grep -q '^bench ' "$out/serial.log" 2>/dev/null; then
	echo "bench: no figures (boot.sh status $rc); see $out/serial.log" >&2
	exit 1
fi
sed -n 's/^bench //p' "$out/serial.log" | tr -d '\r'
