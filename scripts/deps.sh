#!/usr/bin/env bash
# Installs every Debian package the project needs (Debian 12, as root). Nothing else is fetched.
set -euo pipefail
PACKAGES=(
	make gcc binutils libc6-dev python3 git        # build
	grub-pc-bin grub-common xorriso mtools          # GRUB rescue ISO (BIOS)
	grub-efi-amd64-bin ovmf                         # the same ISO under UEFI (QEMU with OVMF)
	bochs bochsbios vgabios                         # test platform with VMX
	qemu-system-x86                                 # TCG boots and nested VT-x runs
	libcmocka-dev clang libclang-rt-14-dev          # unit tests and libFuzzer
	cppcheck clang-format                           # make check
	linux-source-6.1 busybox-static cpio xz-utils   # dom0: kernel source, initramfs
	bc bison flex libelf-dev libssl-dev kmod        # dom0: kernel build
	dkms linux-headers-amd64 linux-image-amd64      # make install: DKMS; the stock dom0 case
)
export DEBIAN_FRONTEND=noninteractive
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
