#!/bin/sh
# The KVM API tests (tests/kvm/) against /dev/kvm: one program per ioctl family
# (kvmtests=a,b on the kernel command line runs only those).
tests="kvm_basic kvm_state kvm_device kvm_modes kvm_irqchip kvm_smp kvm_caps"
for w in $(cat /proc/cmdline); do
	case $w in kvmtests=*) tests=$(echo "${w#kvmtests=}" | tr , ' ') ;; esac
done
rc=0
# each program's lines, then its verdict: kvmtest: NAME pass|fail (its summary line)
for t in $tests; do
	$t >/tmp/kvmtest.out 2>&1
	r=$?
	cat /tmp/kvmtest.out
	v=pass
	[ $r -eq 0 ] || v=fail rc=1
	echo "kvmtest: $t $v ($(tail -n 1 /tmp/kvmtest.out))"
done
exit $rc
