#!/bin/sh
# Hostile user space against /dev/kvm (tests/kvm/kvm_fuzz.c); dom0's kernel must not oops.
# kvmfuzz_seed=N on the kernel command line replays a seed (the default is fixed).
seed=$(sed -n 's/.*kvmfuzz_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
# shellcheck disable=SC2086 # no seed: no argument
trace=$(sed -n 's/.*kvmfuzz_trace=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$trace" ] && export KVM_FUZZ_TRACE=$trace
kvm_fuzz $seed || exit 1
! dmesg | grep -qE "BUG|Oops|WARNING"
