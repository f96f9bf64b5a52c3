#!/bin/sh
# Boot-time cost by subsystem: with initcall_debug on dom0's command line, the 20 slowest
# initcalls (emulated time in Bochs) and those of the VMM options (INET, TUN, bridge, hugetlbfs,
# virtio, seccomp). Diagnostic only: make boottime gives the total.
dmesg | sed -n 's/.*initcall \([^ ]*\) returned .* after \([0-9]*\) usecs.*/\2 \1/p' >/tmp/ic
sort -n /tmp/ic | tail -n 20 | sed 's/^/initcall: slow: /'
grep -E "inet|tcp|udp|ipv4|tun|br_|bridge|hugetlb|virtio|seccomp|net_" /tmp/ic | sed 's/^/initcall: vmm: /'
awk '{ s += $1 } END { print "initcall: total", s, "usecs in", NR, "initcalls" }' /tmp/ic
