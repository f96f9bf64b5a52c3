#!/bin/sh
# Hostile user space against /dev/kvm (tests/kvm/kvm_fuzz.c); dom0's kernel must not oops.
kvm_fuzz || exit 1
! dmesg | grep -qE "BUG|Oops|WARNING"
