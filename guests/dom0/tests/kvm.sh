#!/bin/sh
# The KVM API tests (tests/kvm/) against /dev/kvm: one program per ioctl family.
rc=0
for t in kvm_basic kvm_state kvm_device kvm_modes kvm_irqchip; do
	$t || rc=1
done
exit $rc
