#!/usr/bin/env bash
# make run: boot the ISO with the serial console on this terminal.
# QEMU with KVM when this host gives its guests VT-x (nested), otherwise Bochs, which emulates VMX.
set -uo pipefail
iso=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
megs=${MEGS:-512} cpus=${CPUS:-1}

nested_vmx() {
	grep -qw vmx /proc/cpuinfo || return 1
	local p=/sys/module/kvm_intel/parameters/nested
	[ -r $p ] && grep -qiE '^(y|1)' $p
}

if nested_vmx; then
	echo "run: this host has VT-x with kvm_intel nested=Y: using QEMU with KVM"
	exec qemu-system-x86_64 -accel kvm -cpu host -m "$megs" -smp "$cpus" -cdrom "$iso" \
		-nographic -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04
fi
why="no vmx flag in /proc/cpuinfo"
grep -qw vmx /proc/cpuinfo && why="kvm_intel is not loaded with nested=Y"
echo "run: no nested VT-x here ($why): using Bochs, which emulates VMX (slower)"
dir=$(mktemp -d)
# serial console: the terminal itself (input and output) when there is one, else our stdout
exec 3>&1
if tty -s; then
	com1="mode=term, dev=$(tty)"
else
	com1="mode=file, dev=/dev/fd/3"
fi
trap 'rm -rf "$dir"' EXIT
"$(dirname "$0")/bochsrc.sh" "$iso" "${MODEL:-corei7_skylake_x}" "$cpus" "$megs" "$com1" \
	"$dir/bochs.log" >"$dir/bochsrc"
echo c >"$dir/cmds"
echo "run: serial console follows; Ctrl-C ends Bochs"
bochs -q -f "$dir/bochsrc" -rc "$dir/cmds" </dev/null >"$dir/bochs.out" 2>&1
echo "run: Bochs exited (its log was $dir/bochs.log)"
