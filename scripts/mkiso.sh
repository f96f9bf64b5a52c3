#!/usr/bin/env bash
# mkiso.sh OUT.iso HV_ELF "HV CMDLINE" [MODULE_FILE "MODULE CMDLINE"]...
# Makes a GRUB rescue ISO that loads the hypervisor with multiboot2 and the given modules.
# HV_GRUB_PRE: GRUB commands run before (e.g. "insmod wrmsr; wrmsr 0x1b 0xfee00d00": firmware
# that left the local APIC in x2APIC mode).
set -euo pipefail
out=$1 hv=$2 cmdline=$3
shift 3
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$hv" "$stage/boot/hv.elf"
{
	echo 'set timeout=0'
	echo 'set default=0'
	echo 'menuentry "hv" {'
	[ -z "${HV_GRUB_PRE:-}" ] || echo "	$HV_GRUB_PRE"
	echo "	multiboot2 /boot/hv.elf $cmdline"
	i=0
	while [ $# -ge 2 ]; do
		cp "$1" "$stage/boot/mod$i"
		echo "	module2 /boot/mod$i $2"
		i=$((i + 1))
		shift 2
	done
	echo '	boot'
	echo '}'
} >"$stage/boot/grub/grub.cfg"
# grub-mkrescue writes only when the result is complete: build beside, then rename
grub-mkrescue -o "$out.tmp" "$stage" >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
mv "$out.tmp" "$out"
