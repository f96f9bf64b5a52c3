#!/bin/sh
# QEMU in dom0 with a virtio-net device on a tap interface that dom0 puts in a bridge: the guest
# answers dom0's ping (TUN/TAP, a bridge and TCP/IP in dom0, virtio-net in the guest; only in
# the initramfs scripts/qemu-in-dom0.sh builds).
[ -x /usr/bin/qemu-system-x86_64 ] || { echo "qemunet: no QEMU in this initramfs"; exit 1; }
/usr/bin/qemu-system-x86_64 -accel kvm -nographic -m 64 -no-reboot \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0,romfile= \
	-kernel /guest/bzImage -initrd /guest/guest.cpio \
	-append "console=ttyS0 panic=-1 guest.net=10.0.2.15" >/tmp/qemunet.out 2>&1 </dev/null &
qemu=$!
# the guest's network comes up (its init says so) within 300 s of dom0's time, or never
i=0
while ! grep -q "^qemu-guest: eth0 up" /tmp/qemunet.out && kill -0 $qemu 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 300 ] && break
	sleep 1
done
brctl addbr br0 && brctl addif br0 tap0 && ifconfig tap0 up &&
	ifconfig br0 10.0.2.1 netmask 255.255.255.0 up
ping -c 3 -W 20 10.0.2.15 >/tmp/ping.out 2>&1
rc=$?
sed 's/^/qemunet: /' /tmp/qemunet.out /tmp/ping.out | tr -d '\r'
kill $qemu
wait
[ $rc -eq 0 ]
