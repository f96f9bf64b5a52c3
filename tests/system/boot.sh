#!/usr/bin/env bash
# Boots the hypervisor headless and captures what it prints. Reusable by every system test.
#
# boot.sh --out DIR [--emu bochs|qemu|qemu-efi] [--cpus N] [--megs M] [--timeout S] [--model M]
#         [--cmdline "HV CMDLINE"] [--hv ELF] [--iso ISO] [--module FILE "MODULE CMDLINE"]...
#         [--serial com1|com2]    (Bochs: the port serial.log records; com2: the machine has no COM1)
#
# DIR receives hv.iso, serial.log and, for Bochs, bochsrc, bochs.log and bochs.out.
# Exit status: 0 when the serial log holds "hv: result: PASS", 1 for FAIL or no result,
# 124 when the time limit ended the run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
emu=bochs cpus=1 megs=512 timeout=120 model=corei7_skylake_x cmdline="" out="" iso=""
hv="" serial=com1
mods=()
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--emu) emu=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--megs) megs=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--model) model=$2; shift 2 ;;
	--cmdline) cmdline=$2; shift 2 ;;
	--hv) hv=$2; shift 2 ;;
	--iso) iso=$2; shift 2 ;;
	--module) mods+=("$2" "$3"); shift 3 ;;
	--serial) serial=$2; shift 2 ;;
	*) echo "boot.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { echo "boot.sh: --out DIR is required" >&2; exit 2; }
# the boot-time self-tests and benchmark are only in the test image
case " $cmdline " in
*" selftest "* | *" bench "*) : "${hv:=$root/build/hv-test.elf}" ;;
*) : "${hv:=$root/build/hv.elf}" ;;
esac
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/serial.log" "$out/bochs.log" "$out/bochs.out"
if [ -z "$iso" ]; then
	iso="$out/hv.iso"
	"$root/scripts/mkiso.sh" "$iso" "$hv" "$cmdline" "${mods[@]}" || exit 2
fi
iso=$(cd "$(dirname "$iso")" && pwd)/$(basename "$iso")

case $emu in
bochs)
	# Debian's build has no "nogui": rfb with no wait; without a dummy sound driver it aborts
	"$root/scripts/bochsrc.sh" "$iso" "$model" "$cpus" "$megs" "mode=file, dev=$out/serial.log" \
		"$out/bochs.log" "$serial" >"$out/bochsrc"
	echo c >"$out/bochs.cmds"
	# the rfb display listens on a TCP port: run each Bochs in its own network namespace
	# when we can, so that parallel runs do not fight over it
	ns=()
	if unshare -n true 2>/dev/null; then ns=(unshare -n); fi
	(cd "$out" && timeout -k 5 "$timeout" "${ns[@]}" bochs -q -f bochsrc -rc bochs.cmds \
		</dev/null >bochs.out 2>&1)
	rc=$?
	;;
qemu | qemu-efi)
	accel=(-accel tcg)
	[ "${HV_QEMU_KVM:-0}" = 1 ] && accel=(-accel kvm -cpu host)
	# qemu-efi: UEFI firmware (Debian's OVMF) boots the ISO's GRUB EFI image
	[ "$emu" = qemu-efi ] && accel+=(-bios /usr/share/ovmf/OVMF.fd)
	timeout -k 5 "$timeout" qemu-system-x86_64 "${accel[@]}" -m "$megs" -smp "$cpus" \
		-cdrom "$iso" -display none -monitor none -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-serial "file:$out/serial.log" >"$out/qemu.out" 2>&1
	rc=$?
	;;
*)
	echo "boot.sh: unknown emulator $emu" >&2
	exit 2
	;;
esac
[ $rc -eq 124 ] && exit 124
grep -q "hv: result: PASS" "$out/serial.log" 2>/dev/null
