#!/usr/bin/env bash
# make test-qemu: Debian's qemu-system-x86_64 (with every library it loads and its firmware) in
# the dom0 initramfs, run under the hypervisor in Bochs against /dev/kvm; the guest is the dom0
# kernel (bzImage) with guests/qemu/init (and the conformance guest of tests/conform/). Prints
# QEMU's output and ends "qemu-in-dom0: PASS" when the guest's init printed its marker. Needs the
# qemu-system-x86 package. QEMU_EXTRA=a,b adds arguments to QEMU's command line
# (QEMU_EXTRA=-trace,kvm_* shows its KVM ioctls). With --initramfs it only builds
# build/qemu/initramfs.cpio (the system cases bochs_dom0_qemu* and make conform boot it).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
qemu=/usr/bin/qemu-system-x86_64
[ -x $qemu ] || { echo "qemu-in-dom0: $qemu missing (apt-get install qemu-system-x86)"; exit 1; }
make -s all dom0 build/qconform/qconform.elf || exit 1
bz=$(scripts/dom0-bzimage.sh | tail -n 1)
out=build/qemu
rm -rf "$out" && mkdir -p "$out/guest/bin" "$out/guest/proc" "$out/guest/sys"
cp /bin/busybox build/dom0/drain "$out/guest/bin/" && ln -s busybox "$out/guest/bin/sh" &&
	cp guests/qemu/init "$out/guest/init"
(cd "$out/guest" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out/guest.cpio"
# QEMU, the loader and the libraries it links, its option ROMs and SeaBIOS, at their paths
files=("$qemu" $(ldd $qemu | awk '/=>/ {print $3} !/=>/ {print $1}' | grep '^/'))
files+=(/usr/share/qemu/{kvmvapic,linuxboot_dma,linuxboot,pvh,multiboot_dma}.bin)
files+=(/usr/share/seabios/*)
pairs=()
for f in "${files[@]}"; do
	mkdir -p "$out/root$(dirname "$f")" && cp -L "$f" "$out/root$f"
	pairs+=("$out/root$f:${f#/}")
done
scripts/dom0-initramfs.sh "$out/initramfs.cpio" build/dom0/kvm_hv.ko:lib/modules/kvm_hv.ko \
	build/dom0/hvlog:bin/hvlog build/dom0/drain:bin/drain "$bz:guest/bzImage" "$out/guest.cpio:guest/guest.cpio" \
	build/qconform/qconform.elf:guest/qconform.elf \
	"${pairs[@]}" || exit 1
[ "${1:-}" = --initramfs ] && exit 0
tests/system/boot.sh --out "$out/boot" --megs 1024 --timeout 900 --cmdline "poweroff" \
	--module build/dom0/vmlinux "console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog dom0test=qemu ${QEMU_EXTRA:+qemu.extra=$QEMU_EXTRA}" \
	--module "$out/initramfs.cpio" initrd
tr -d '\r' <"$out/boot/serial.log" | sed -n '/^dom0: test qemu/,$!p' | grep -v '^boot:\|^mem:' | tail -n 40
if tr -d '\r' <"$out/boot/serial.log" | grep -q '^dom0: test qemu: PASS'; then
	echo "qemu-in-dom0: PASS"
else
	echo "qemu-in-dom0: FAIL (see $out/boot/serial.log)"
	exit 1
fi
