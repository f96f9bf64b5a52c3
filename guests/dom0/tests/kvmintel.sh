#!/bin/sh
# The distribution kernel's own KVM next to kvm_hv (dom0 of Debian's stock kernel, initramfs by
# scripts/stock-dom0.sh): kvm_intel must find VMX unusable under the hypervisor and refuse to
# load, cleanly (no Oops, no WARNING), and /dev/kvm must stay kvm_hv's.
d=/lib/modules/stock
[ -f $d/kvm-intel.ko ] || { echo "kvmintel: no kvm-intel.ko in this initramfs"; exit 1; }
before=$(dmesg | wc -l)
insmod $d/irqbypass.ko && insmod $d/kvm.ko || { echo "kvmintel: kvm.ko does not load"; exit 1; }
if insmod $d/kvm-intel.ko 2>/tmp/kvmintel.err; then
	echo "kvmintel: kvm_intel loaded under the hypervisor"
	exit 1
fi
echo "kvmintel: kvm_intel refused: $(cat /tmp/kvmintel.err)"
# what the kernel said since (the boot's own messages are not kvm_intel's)
dmesg | tail -n +$((before + 1)) >/tmp/kvmintel.log
sed 's/^/kvmintel: dmesg: /' /tmp/kvmintel.log
if grep -aq "Oops\|WARNING:\|BUG:\|invalid opcode" /tmp/kvmintel.log; then
	echo "kvmintel: the kernel complained"
	exit 1
fi
grep -q "^kvm_hv " /proc/modules && [ -c /dev/kvm ] && echo "kvmintel: /dev/kvm is kvm_hv's"
