#!/bin/sh
# The KVM API tests (tests/kvm/) against /dev/kvm: one program per ioctl family
# (kvmtests=a,b on the kernel command line runs only those).
tests="kvm_basic kvm_state kvm_device kvm_modes kvm_irqchip kvm_smp"
for w in $(cat /proc/cmdline); do
	case $w in kvmtests=*) tests=$(echo "${w#kvmtests=}" | tr , ' ') ;; esac
done
rc=0
for t in $tests; do
	$t || rc=1
done
exit $rc
