#!/usr/bin/env bash
# make bench: boots the hypervisor in Bochs with `bench` and prints the exit costs the guest
# measured with RDTSC, as "name value unit" lines. In Bochs the TSC advances with the emulated
# instruction count (ips=50000000 and a 50 MHz TSC), so a cycle here is about one instruction:
# the figures are also the number of instructions on each exit's round trip.
#
# Then it boots dom0 with dom0test=kvmbench (tests/kvm/kvm_bench.c) and prints, in the same
# form, what a KVM guest's port write costs: kvm_run_roundtrip (KVM_EXIT_IO to user space in
# dom0 and back), hv_handled_exit (the same OUT to a UART inside the hypervisor) and
# rdtsc_baseline (no exit; already subtracted from the other two), as the guest's RDTSC sees
# them; *_min are the minima. kvm_run_roundtrip_host_tsc and _host_wallclock are the round trip
# as the program in dom0 sees it, in TSC cycles and in dom0's CLOCK_MONOTONIC; in Bochs dom0's
# kernel takes the TSC for 3.5 GHz, so those nanoseconds are about 70 times too few.
# lapic_timer_roundtrip (and _pv_eoi, with KVM's PV EOI in place of the EOI write) and
# ipi_roundtrip are interrupts of the in-hypervisor irqchip (no user space involved); they are
# printed for one dom0 CPU and for two (there the two vCPU threads of the IPI case can run at
# once). Last, first_touch_fault (a guest write to a page never touched: the host page allocated
# and mapped), its minimum and mapped_page_write (the same write once mapped, subtracted from the
# other two) are printed for dom0 here and for Linux KVM (the reference kernel booted natively).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=build/bench
make -s all || exit 1
tests/system/boot.sh --out "$out" --cmdline "poweroff bench loglevel=warn" --timeout 300
rc=$?
if ! grep -q '^bench ' "$out/serial.log" 2>/dev/null; then
	echo "bench: no figures (boot.sh status $rc); see $out/serial.log" >&2
	exit 1
fi
sed -n 's/^bench //p' "$out/serial.log" | tr -d '\r'

# the KVM API's view, from dom0 user space (the dom0 kernel and initramfs come from make dom0),
# with one dom0 CPU (both vCPU threads of the IPI case share it) and with two
make -s dom0 >/dev/null || exit 1
dom0_args="console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog"
for cpus in 1 2; do
	kout=build/bench/kvm$cpus
	tests/system/boot.sh --out "$kout" --cpus $cpus --cmdline "poweroff loglevel=warn" \
		--timeout 400 --module build/dom0/vmlinux "$dom0_args dom0test=kvmbench" \
		--module build/dom0/initramfs.cpio initrd
	rc=$?
	log=$kout/serial.log
	if ! tr -d '\r' <"$log" 2>/dev/null | grep -q '^dom0: test kvmbench: PASS'; then
		echo "bench: kvm_bench did not pass (boot.sh status $rc); see $log" >&2
		tr -d '\r' <"$log" 2>/dev/null | grep -E '^kvm_bench: FAIL|passed, .* failed' >&2
		exit 1
	fi
	echo "dom0 CPUs: $cpus"
	tr -d '\r' <"$log" | sed -nE 's/^kvm_bench: ([a-z_]+ [0-9]+ [a-z]+)$/\1/p'
done

# The first-touch fault of a guest page next to Linux KVM's: the same program (kvm_bench fault)
# under the reference kernel booted natively in Bochs (scripts/referee.sh's, with KVM) and in
# dom0 here (the first dom0 run above), in the guest's cycles.
ref=$(scripts/dom0-kernel.sh ref | tail -n 1) || exit 1
scripts/native-iso.sh build/bench/native.iso "$ref/arch/x86/boot/bzImage" build/dom0/initramfs.cpio \
	"$dom0_args dom0test=kvmbench kvmbench.only=fault" >/dev/null || exit 1
tests/system/boot.sh --out build/bench/native --iso build/bench/native.iso --megs 1024 --timeout 900
figure() { # LOG NAME
	tr -d '\r' <"$1" 2>/dev/null | sed -n "s/^kvm_bench: $2 \([0-9]*\) cycles$/\1/p"
}
for f in first_touch_fault first_touch_fault_min mapped_page_write; do
	hv=$(figure build/bench/kvm1/serial.log $f) kvm=$(figure build/bench/native/serial.log $f)
	if [ -z "$hv" ] || [ -z "$kvm" ]; then
		echo "bench: no $f figure (see build/bench/kvm1 and build/bench/native)" >&2
		exit 1
	fi
	echo "$f hv $hv kvm $kvm cycles"
done
