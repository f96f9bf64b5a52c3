#!/usr/bin/env bash
# native-iso.sh OUT.iso BZIMAGE INITRD "CMDLINE"
# Makes a GRUB rescue ISO that boots a Linux bzImage directly, without the hypervisor: the
# boot-time comparison and the tests of a kernel that does not run under the hypervisor.
set -euo pipefail
out=$1 kernel=$2 initrd=$3 cmdline=$4
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$kernel" "$stage/boot/bzImage"
cp "$initrd" "$stage/boot/initrd"
printf 'set timeout=0\nmenuentry linux {\n\tlinux /boot/bzImage %s\n\tinitrd /boot/initrd\n\tboot\n}\n' \
	"$cmdline" >"$stage/boot/grub/grub.cfg"
grub-mkrescue -o "$out.tmp" "$stage" >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
mv "$out.tmp" "$out"
