#!/bin/sh
# dom0's kernel turned hostile (tests/kvm/hvhostile_test.c): every hypercall with random and
# half-valid arguments from each CPU while its buffers are rewritten; the hypervisor stays up
# with every frame back. hvhostile_seed=N on the kernel command line picks another seed.
seed=$(sed -n 's/.*hvhostile_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
insmod /lib/modules/hvhostile_test.ko ${seed:+seed=$seed} || exit 1
dmesg | grep "hvhostile:"
dmesg | grep -q "hvhostile: PASS" && ! dmesg | grep -qE "BUG|Oops|WARNING"
