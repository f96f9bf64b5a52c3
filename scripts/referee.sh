#!/usr/bin/env bash
# make referee: the same KVM tests on Linux KVM and on this hypervisor, side by side.
# The reference kernel (dom0's configuration plus Linux KVM, scripts/dom0-kernel.sh ref) boots
# natively in Bochs; dom0's kernel boots under the hypervisor; both with the same initramfs (the
# upstream selftests and the project's kvm_* programs), the same CPU model, one CPU, 1 GiB.
# Prints one line a program, then the counts; writes the table as Markdown to
# build/referee/table.md (tests/kvm/REFERENCE.md holds the last one measured). A program that
# fails on both is a Bochs limit; one that passes on Linux KVM only is this hypervisor's gap.
# REFEREE_ONLY=a,b runs only those selftests (a quick look at a few programs); REFEREE_SIDES=kvm
# (or hv) boots only that side and keeps the other side's last log.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/referee
args="console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog dom0test=kvm,selftests"
# Programs that stall the whole of Bochs's guest under Linux KVM (nested VMX in Bochs), so that
# no time limit inside the guest ends them: not started there (measured: no output for 7 min,
# for hardware_disable_test's VMs made and dropped by forked children, no output for 3 min, for
# memslot_perf_test and set_memory_region_test for 5 min and more).
ref_exclude=x86_64/vmx_preemption_timer_test,x86_64/tsc_scaling_sync,hardware_disable_test
ref_exclude=$ref_exclude,memslot_perf_test,set_memory_region_test
# kvm_irqchip is not run there: it tests this project's KVM_CREATE_DEVICE types for the IOAPIC,
# PIT and local APIC (ENODEV on Linux KVM), then waits out its 120 s limit for an interrupt
ref_kvmtests=kvm_basic,kvm_state,kvm_device,kvm_modes,kvm_caps,kvm_conform,kvm_smp,kvm_mem
sides=${REFEREE_SIDES:-kvm hv}
[ -n "${REFEREE_ONLY:-}" ] && args="$args selftests=$REFEREE_ONLY"
make -s -C "$root" all dom0 build/dom0/initramfs-selftests.cpio >/dev/null || exit 1
ref=$("$root/scripts/dom0-kernel.sh" ref | tail -n 1) || exit 1
initrd=$root/build/dom0/initramfs-selftests.cpio
mkdir -p "$out"
"$root/scripts/native-iso.sh" "$out/kvm.iso" "$ref/arch/x86/boot/bzImage" "$initrd" \
	"$args selftests.exclude=$ref_exclude kvmtests=$ref_kvmtests" || exit 1
case " $sides " in *" kvm "*)
	"$root/tests/system/boot.sh" --out "$out/kvm" --iso "$out/kvm.iso" --megs 1024 --timeout 2400 &
	;;
esac
case " $sides " in *" hv "*)
	"$root/tests/system/boot.sh" --out "$out/hv" --megs 1024 --timeout 2400 --cmdline poweroff \
		--module "$root/build/dom0/vmlinux" "$args" --module "$initrd" initrd &
	;;
esac
wait

# verdicts: "NAME VERDICT" per program, from a run's serial log
verdicts() {
	tr -d '\r' <"$1/serial.log" | sed -n 's/^selftest: \([^ ]*\) \([a-z]*\) .*/\1 \2/p; s/^kvmtest: \([^ ]*\) \([a-z]*\) .*/\1 \2/p'
}
verdicts "$out/kvm" | sort >"$out/kvm.v"
verdicts "$out/hv" | sort >"$out/hv.v"
join -a1 -a2 -e none -o 0,1.2,2.2 "$out/kvm.v" "$out/hv.v" | awk -v md="$out/table.md" '
function kind(k, h) {
	if (k == "excluded" || k == "none") return "not run on Linux KVM (it stalls Bochs there)"
	if (k == h) return k == "pass" ? "both pass" : "both " k
	if (k == "pass") return "gap: passes on Linux KVM only"
	if (h == "pass") return "passes here only"
	return "differs"
}
BEGIN {
	print "| program | Linux KVM | here | |" >md
	print "|---|---|---|---|" >md
}
{
	c = kind($2, $3)
	n[c]++
	printf "referee: %-45s kvm %-8s hv %-8s %s\n", $1, $2, $3, c
	printf "| %s | %s | %s | %s |\n", $1, $2, $3, c >md
}
END {
	for (c in n) printf "referee: %d %s\n", n[c], c
}'
