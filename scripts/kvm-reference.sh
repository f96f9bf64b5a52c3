#!/usr/bin/env bash
# The dom0 KVM API tests (tests/kvm/) run against this host's own /dev/kvm, as a reference:
# each program's failed checks are where this hypervisor's /dev/kvm and Linux KVM disagree.
# tests/kvm/REFERENCE.md lists the disagreements expected by design and why. Without a host
# /dev/kvm (no VT-x, or the kvm_intel module not loaded) there is nothing to compare.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/kvm-reference
if [ ! -c /dev/kvm ] || ! grep -q '^kvm' /proc/modules 2>/dev/null; then
	echo "kvm-reference: no Linux KVM on this host (/dev/kvm or the kvm module missing): nothing to compare"
	exit 0
fi
mkdir -p "$out"
for t in kvm_basic kvm_state kvm_device kvm_modes kvm_caps kvm_conform; do
	gcc -static -O2 -Wall -Wextra -o "$out/$t" "$root/tests/kvm/$t.c"
	"$out/$t" >"$out/$t.log" 2>&1 || true
	echo "kvm-reference: $t: $(tail -n 1 "$out/$t.log")"
	grep ': FAIL ' "$out/$t.log" | sed 's/^/    /' || true
done
