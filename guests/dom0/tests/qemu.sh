#!/bin/sh
# Debian's unmodified qemu-system-x86_64 in dom0 on /dev/kvm, default in-kernel irqchip, booting
# the dom0 kernel as a guest with a one-line init (only in the initramfs scripts/qemu-in-dom0.sh
# builds). Passes when the guest's init prints its marker.
# qemu.extra=a,b on dom0's command line adds arguments (e.g. qemu.extra=-trace,kvm_*); with
# -D,/tmp/qemu.log the trace goes there: its last 80 lines are printed at the end, and a count of
# each ioctl number the kvm_*_ioctl trace events saw.
[ -x /usr/bin/qemu-system-x86_64 ] || { echo "qemu: not in this initramfs"; exit 1; }
extra=$(sed -n 's/.*qemu\.extra=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
# qemu.reboot: the guest reboots once (guest.reboot), so QEMU must not exit when it does
append="console=ttyS0 panic=-1" noreboot=-no-reboot
grep -q qemu.reboot /proc/cmdline && append="$append guest.reboot" noreboot=
# shellcheck disable=SC2086 # (extra is a list of arguments)
/usr/bin/qemu-system-x86_64 -accel kvm -nographic -m 64 -nic none $noreboot $extra \
	-kernel /guest/bzImage -initrd /guest/guest.cpio -append "$append" 2>&1 |
	tee /tmp/qemu.out
echo "qemu: exit status of qemu-system-x86_64 above"
if [ -f /tmp/qemu.log ]; then
	tail -n 80 /tmp/qemu.log
	grep -o '^kvm_[a-z]*_ioctl.*type 0x[0-9a-f]*' /tmp/qemu.log | sed 's/cpu_index [0-9]*, //' |
		awk '{ n[$0]++ } END { for (k in n) print "qemu-ioctl:", n[k], k }'
fi
# what kvm_hv logged (MSRs no one has, refused KVM_SET/GET_MSRS), for the audit of a guest's MSRs
dmesg | grep 'kvm_hv:' | tail -n 20
grep -q "^qemu-guest: init ran" /tmp/qemu.out
