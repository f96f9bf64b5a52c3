#!/bin/sh
# make bench's program (tests/kvm/kvm_bench.c), the same here and on Linux KVM: the exit costs
# (kvmbench_iters=N on the kernel command line sets the iterations, default 200), the first-touch
# fault, and with two CPUs or more how the costs grow with VMs, vCPUs and slot sizes.
n=$(sed -n 's/.*kvmbench_iters=\([0-9]*\).*/\1/p' /proc/cmdline)
rc=0
kvm_bench "${n:-200}" || rc=1
kvm_bench fault || rc=1
[ "$(nproc)" -lt 2 ] || kvm_bench scale || rc=1
exit $rc
