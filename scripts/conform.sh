#!/usr/bin/env bash
# make conform: the guest conformance suites on Linux KVM and on this hypervisor, side by side:
# tests/kvm/kvm_conform.c (flat guests run over /dev/kvm by their own runner) and the QEMU
# conformance guest (tests/conform/, under Debian's QEMU in each irqchip mode). One line a check
# with what each side got, then the counts. Both sides boot in Bochs as in make referee (the
# reference kernel natively, dom0's under the hypervisor, the same initramfs, CPU model and
# memory). CONFORM_ONLY=kvm_conform (or qconform) runs one suite; CONFORM_ARGS adds to both
# kernel command lines (qconform.modes=hyperv: that QEMU mode alone). Exits 1 when a check differs.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/conform
args="console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog ${CONFORM_ARGS:-}"
suites=${CONFORM_ONLY:-kvm_conform qconform}
make -s -C "$root" all dom0 build/dom0/initramfs-selftests.cpio >/dev/null || exit 1
"$root/scripts/qemu-in-dom0.sh" --initramfs >/dev/null || exit 1
ref=$("$root/scripts/dom0-kernel.sh" ref | tail -n 1) || exit 1
mkdir -p "$out"

# "CHECK<tab>GOT" per check, in the program's order
results() {
	tr -d '\r' <"$1/serial.log" |
		sed -n 's/^\(kvm_conform\|qconform\): [a-zA-Z]* \(.*\): got \(.*\), want .*/\2\t\3/p'
}

pair() { # SUITE INITRD DOM0-ARGS: the suite on both sides at once, logs in $out/SUITE-{kvm,hv}
	"$root/scripts/native-iso.sh" "$out/$1.iso" "$ref/arch/x86/boot/bzImage" "$2" "$3" || exit 1
	"$root/tests/system/boot.sh" --out "$out/$1-kvm" --iso "$out/$1.iso" --megs 1024 --timeout 1800 &
	"$root/tests/system/boot.sh" --out "$out/$1-hv" --megs 1024 --timeout 1800 --cmdline poweroff \
		--module "$root/build/dom0/vmlinux" "$3" --module "$2" initrd &
	wait
}
rm -f "$out/kvm.r" "$out/hv.r"
for s in $suites; do
	case $s in
	kvm_conform)
		pair $s "$root/build/dom0/initramfs-selftests.cpio" "$args dom0test=kvm kvmtests=kvm_conform" ;;
	qconform) pair $s "$root/build/qemu/initramfs.cpio" "$args dom0test=qconform" ;;
	*) echo "conform: no suite $s" && exit 1 ;;
	esac
	results "$out/$s-kvm" >>"$out/kvm.r"
	results "$out/$s-hv" >>"$out/hv.r"
done

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
