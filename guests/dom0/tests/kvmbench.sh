#!/bin/sh
# make bench's dom0 half (tests/kvm/kvm_bench.c): the cost of a KVM_RUN round trip to user space
# on a port write next to the same exit handled inside the hypervisor, as the guest measures
# them, then the cost of a first-touch fault of a guest page. kvmbench_iters=N on dom0's command
# line sets the iterations (default 200); kvmbench.only=fault runs only the fault case (it needs
# nothing but memory slots: make bench runs it on Linux KVM too).
n=$(sed -n 's/.*kvmbench_iters=\([0-9]*\).*/\1/p' /proc/cmdline)
grep -q 'kvmbench\.only=fault' /proc/cmdline && exec kvm_bench fault
rc=0
kvm_bench "${n:-200}" || rc=1
kvm_bench fault || rc=1
exit $rc
