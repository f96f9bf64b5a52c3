#!/usr/bin/env bash
# make bench: the same benchmark program (tests/kvm/kvm_bench.c, dom0test=kvmbench) on this
# hypervisor's /dev/kvm (dom0) and on Linux KVM (the reference kernel: dom0's configuration plus
# KVM, booted natively), both in Bochs on the same emulated CPU, with 1 and with 2 CPUs; then one
# line per figure:
#
#   NAME hv N kvm M ratio R      (R = N / M: below 1 is shorter here)
#
# In Bochs the TSC advances with the emulated instruction count (ips=50000000 and a 50 MHz TSC),
# so a cycle is about one instruction: each figure is the length of a path, not a time that the
# machine's load could change. The guest-measured figures are per exit round trip with the
# loop's own cost subtracted; kvm_run_immediate_exit and dirty_log_fetch_64m are timed by the
# program in dom0 (or on the native kernel) with the same TSC. Figures from the 2-CPU runs carry
# _2cpu (only the interrupt cases differ: there the two vCPU threads of the IPI case can run at
# once). Lines with hv and no kvm are this hypervisor's alone: hv_handled_exit (an OUT to its
# in-hypervisor UART), and, from its own boot-time benchmark guest (the `bench` command line of
# build/hv-test.elf), the exit costs inside the hypervisor with no dom0 involved.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=build/bench
mkdir -p "$out"
make -s all dom0 >/dev/null || exit 1
ref=$(scripts/dom0-kernel.sh ref | tail -n 1) || exit 1
args="console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog dom0test=kvmbench"

# run NAME BOOT.SH-ARGS...: one boot; its kvm_bench figures as "name value" in $out/NAME.fig
run() {
	local name=$1 log=$out/$1/serial.log
	shift
	tests/system/boot.sh --out "$out/$name" --timeout 900 "$@"
	if ! tr -d '\r' <"$log" 2>/dev/null | grep -q '^dom0: test kvmbench: PASS'; then
		echo "bench: kvm_bench did not pass in $name; see $log" >&2
		tr -d '\r' <"$log" 2>/dev/null | grep -E '^kvm_bench: FAIL|passed, .* failed' >&2
		exit 1
	fi
	tr -d '\r' <"$log" | sed -nE 's/^kvm_bench: ([a-z0-9_]+) ([0-9]+) (cycles|kib|times)$/\1 \2/p' >"$out/$name.fig"
}

scripts/native-iso.sh "$out/native.iso" "$ref/arch/x86/boot/bzImage" build/dom0/initramfs.cpio \
	"$args" >/dev/null || exit 1
for cpus in 1 2; do
	run hv$cpus --cpus $cpus --megs 1024 --cmdline "poweroff loglevel=warn" \
		--module build/dom0/vmlinux "$args" --module build/dom0/initramfs.cpio initrd
	run kvm$cpus --cpus $cpus --megs 1024 --iso "$out/native.iso"
done

# side by side: every figure of the hv runs, with Linux KVM's where it has one. From the 2-CPU
# runs: the interrupt cases (as NAME_2cpu) and the scaling table (kvm_bench scale: scale_vms_N_*
# for N VMs of one vCPU at once, scale_vcpus_N_* for one VM of N vCPUs, *_min the smallest single
# exit, the memory per VM and per vCPU in KiB, slot_create/delete_SIZE in host cycles)
for cpus in 1 2; do
	awk -v two=$((cpus == 2)) '
		NR == FNR { kvm[$1] = $2; next }
		two && $1 !~ /^(lapic_timer|ipi|scale|slot)/ { next }
		{ n = two && $1 ~ /^(lapic_timer|ipi)/ ? $1 "_2cpu" : $1 }
		$1 in kvm && kvm[$1] > 0 { printf "%s hv %s kvm %s ratio %.2f\n", n, $2, kvm[$1], $2 / kvm[$1]; next }
		$1 in kvm { printf "%s hv %s kvm %s\n", n, $2, kvm[$1]; next }
		{ printf "%s hv %s\n", n, $2 }' "$out/kvm$cpus.fig" "$out/hv$cpus.fig"
done

# the hypervisor's own benchmark guest (no dom0): exits handled inside the hypervisor
tests/system/boot.sh --out "$out/guest" --cmdline "poweroff bench loglevel=warn" --timeout 300
if ! grep -q '^bench ' "$out/guest/serial.log" 2>/dev/null; then
	echo "bench: no figures from the hypervisor's benchmark guest; see $out/guest/serial.log" >&2
	exit 1
fi
tr -d '\r' <"$out/guest/serial.log" | sed -nE 's/^bench ([a-z0-9_]+) ([0-9]+) (.*)$/hv_guest_\1 hv \2 \3/p'
