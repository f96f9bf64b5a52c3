#!/usr/bin/env bash
# Debian's stock kernel (linux-image-amd64, installed by scripts/deps.sh) as dom0: kvm_hv built
# for it by DKMS against its linux-headers-amd64, from the package make install makes (staged,
# with DKMS's trees, under build/stock: nothing is installed on this machine), and an initramfs
# of dom0's (busybox, its init and tests, kvm_basic) with that module and the kernel's own KVM
# modules (for the kvmintel test). Prints the paths of the kernel and of the initramfs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/build/stock
kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)
if [ -z "$kernel" ] || [ ! -d "/usr/src/linux-headers-$kernel" ]; then
	echo "stock-dom0: no linux-image-amd64 with its linux-headers-amd64 (scripts/deps.sh)" >&2
	exit 1
fi
make -s dom0 >&2
rm -rf "$out" && mkdir -p "$out/dkms" "$out/modules"
# kvm_hv's DKMS package as make install makes it, staged under build/stock
DESTDIR=$out/stage scripts/install/install.sh install >&2
src=$(ls -d "$out"/stage/usr/src/kvm-hv-* | head -n 1)
trees=(--sourcetree "$out/stage/usr/src" --dkmstree "$out/dkms" --installtree "$out/modules")
dkms add -m kvm-hv -v "${src##*/kvm-hv-}" "${trees[@]}" >&2
dkms build -m kvm-hv -v "${src##*/kvm-hv-}" -k "$kernel" "${trees[@]}" >&2
mods=/lib/modules/$kernel/kernel
scripts/dom0-initramfs.sh "$out/initramfs.cpio" build/dom0/kvm_basic:bin/kvm_basic \
	build/dom0/drain:bin/drain build/dom0/hvlog:bin/hvlog \
	"$(find "$out/dkms" -name kvm_hv.ko | head -n 1)":lib/modules/kvm_hv.ko \
	"$mods/virt/lib/irqbypass.ko":lib/modules/stock/irqbypass.ko \
	"$mods/arch/x86/kvm/kvm.ko":lib/modules/stock/kvm.ko \
	"$mods/arch/x86/kvm/kvm-intel.ko":lib/modules/stock/kvm-intel.ko
echo "/boot/vmlinuz-$kernel $out/initramfs.cpio"
