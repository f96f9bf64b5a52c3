#!/bin/sh
# The QEMU conformance guest (tests/conform/qconform.c) under Debian's unmodified QEMU on
# /dev/kvm, in each irqchip mode: in the kernel and split with two vCPUs; off (QEMU's own
# local APICs) with one, since QEMU with kernel_irqchip=off and two vCPUs stalls before its
# firmware's first line on Linux KVM in Bochs too. Each run boots, checks, resets the VM,
# checks, makes a triple fault (QEMU resets the VM again) and checks once more; a fourth run
# with QEMU's Hyper-V enlightenments checks only those. Prints the
# guest's lines, then "qconform: N passed, N failed" over all runs.
# Only in the initramfs scripts/qemu-in-dom0.sh builds.
[ -x /usr/bin/qemu-system-x86_64 ] || { echo "qconform: no QEMU in this initramfs"; exit 1; }
pass=0 fail=0 rc=0
# qconform.modes=a,b on the kernel command line runs only those modes
only=$(sed -n 's/.*qconform\.modes=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
run() { # MODE CPUS [QEMU ARGUMENTS]
	mode=$1 cpus=$2
	shift 2
	[ -z "$only" ] || echo " $only " | grep -qF " $mode " || return 0
	/usr/bin/qemu-system-x86_64 -accel kvm -nographic -m 64 -smp "$cpus" -nic none \
		-device isa-debug-exit,iobase=0xf4,iosize=4 "$@" -kernel /guest/qconform.elf \
		-append "mode=$mode cpus=$cpus" </dev/null >/tmp/qconform.out 2>&1 &
	qemu=$!
	# a run takes under 30 s of dom0's time; after 300 s, where QEMU's threads wait, then kill
	i=0
	while kill -0 $qemu 2>/dev/null && [ $i -lt 300 ]; do
		sleep 1
		i=$((i + 1))
	done
	if kill -0 $qemu 2>/dev/null; then
		echo "qconform: $mode: QEMU still runs after $i s; its threads wait in:"
		for t in "/proc/$qemu/task/"*; do
			echo "qconform:   $(cat "$t/comm") $(cat "$t/wchan") $(tr '\n' ' ' 2>/dev/null <"$t/stack")"
		done
		kill -9 $qemu
	fi
	wait $qemu
	# isa-debug-exit: status 1 is the guest's "0 failed" (it writes 0 to the port), 3 is failures
	r=$?
	tr -d '\r' </tmp/qconform.out | grep -a '^qconform: \|^qemu-system' | sed 's/\x1b[^a-zA-Z]*[a-zA-Z]//g'
	p=$(tr -d '\r' </tmp/qconform.out | grep -ac '^qconform: ok ')
	f=$(tr -d '\r' </tmp/qconform.out | grep -ac '^qconform: FAIL ')
	pass=$((pass + p)) fail=$((fail + f))
	last="after the triple fault"
	[ "$mode" = hyperv ] && last="Hyper-V"
	if [ $r -ne 1 ] || ! grep -aq "^qconform: $mode $last: " /tmp/qconform.out; then
		echo "qconform: $mode: QEMU ended with status $r before the guest's last line"
		fail=$((fail + 1)) rc=1
	fi
}
run kernel 2
run split 2 -machine kernel_irqchip=split
run off 1 -machine kernel_irqchip=off
# Hyper-V's enlightenments as QEMU offers them to Windows: its MSRs, hypercalls, IPIs, timers
run hyperv 1 -cpu qemu64,hv-relaxed,hv-vapic,hv-spinlocks=0xfff,hv-vpindex,hv-runtime,hv-time,hv-synic,hv-stimer,hv-stimer-direct,hv-tlbflush,hv-ipi,hv-frequencies,hv-reset
echo "qconform: $pass passed, $fail failed"
[ $rc -eq 0 ] && [ $fail -eq 0 ]
