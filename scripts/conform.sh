#!/usr/bin/env bash
# make conform: the guest conformance suite (tests/kvm/kvm_conform.c) on Linux KVM and on this
# hypervisor, side by side: one line a check with what each side got, then the counts. Both
# boot in Bochs as in make referee (the reference kernel natively, dom0's under the hypervisor,
# the same initramfs, CPU model and memory). Exits 1 when a check differs.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/conform
args="console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog dom0test=kvm"
args="$args kvmtests=kvm_conform"
make -s -C "$root" all dom0 build/dom0/initramfs-selftests.cpio >/dev/null || exit 1
ref=$("$root/scripts/dom0-kernel.sh" ref | tail -n 1) || exit 1
initrd=$root/build/dom0/initramfs-selftests.cpio
mkdir -p "$out"
"$root/scripts/native-iso.sh" "$out/kvm.iso" "$ref/arch/x86/boot/bzImage" "$initrd" "$args" || exit 1
"$root/tests/system/boot.sh" --out "$out/kvm" --iso "$out/kvm.iso" --megs 1024 --timeout 900 &
"$root/tests/system/boot.sh" --out "$out/hv" --megs 1024 --timeout 900 --cmdline poweroff \
	--module "$root/build/dom0/vmlinux" "$args" --module "$initrd" initrd &
wait

# "CHECK<tab>GOT" per check, in the program's order
results() {
	tr -d '\r' <"$1/serial.log" | sed -n 's/^kvm_conform: [a-zA-Z]* \(.*\): got \(.*\), want .*/\1\t\2/p'
}
results "$out/kvm" >"$out/kvm.r"
results "$out/hv" >"$out/hv.r"
awk -F'\t' '
NR == FNR { kvm[$1] = $2; order[++n] = $1; next }
{ hv[$1] = $2; if (!($1 in kvm)) order[++n] = $1 }
END {
	for (i = 1; i <= n; i++) {
		c = order[i]
		k = c in kvm ? kvm[c] : "none"
		h = c in hv ? hv[c] : "none"
		v = k == h ? "same" : "differs"
		cnt[v]++
		printf "conform: %-58s kvm %-12s hv %-12s %s\n", c, k, h, v
	}
	printf "conform: %d same, %d differ\n", cnt["same"], cnt["differs"]
	exit cnt["differs"] > 0 || n == 0
}' "$out/kvm.r" "$out/hv.r"
