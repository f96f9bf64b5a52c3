#!/usr/bin/env bash
# System tests: boot the hypervisor headless and check what it printed on the serial port.
# tests/system/run.sh [CASE...]   (default: every case_* function below; artifacts in build/system/CASE/)
# Ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
art="$root/build/system"
. "$here/lib.sh"

# --- boot and machine discovery --------------------------------------------------------------
case_bochs_boot_512m_1cpu() {
	boot --emu bochs --megs 512 --cpus 1 --cmdline "poweroff"
	expect_fixed "hv: micro-hypervisor starting"
	expect_fixed "boot: loader 'GRUB 2.06"
	expect_fixed "mem:   [0000000000100000-000000001fff0000) available"
	expect_fixed "mem: usable 523836 KiB (511 MiB)"
	expect_fixed "cpu: 1 CPU(s) found (0 disabled in firmware)"
	expect_fixed "cpu:   CPU 0: APIC id 0, ACPI uid 0"
	expect_fixed "cpu:   IOAPIC id 1 at 0xfec00000, GSI base 0"
	expect_result PASS
}

case_bochs_boot_512m_2cpu() {
	boot --emu bochs --megs 512 --cpus 2 --cmdline "poweroff"
	expect_fixed "mem: usable 523836 KiB (511 MiB)"
	expect_fixed "cpu: 2 CPU(s) found (0 disabled in firmware)"
	expect_fixed "cpu:   CPU 0: APIC id 0, ACPI uid 0"
	expect_fixed "cpu:   CPU 1: APIC id 1, ACPI uid 1"
	expect_result PASS
}

case_bochs_boot_128m() {
	boot --emu bochs --megs 128 --cpus 1 --cmdline "poweroff"
	expect_fixed "mem:   [0000000000100000-0000000007ff0000) available"
	expect_fixed "mem: usable 130620 KiB (127 MiB)"
	expect_result PASS
}

# QEMU TCG has no VMX: these runs end in the refusal once discovery is done
expect_vmx_refusal() {
	expect_result "FAIL \\(this CPU cannot run the hypervisor"
}

case_qemu_boot_256m_2cpu() {
	boot --emu qemu --megs 256 --cpus 2 --cmdline "poweroff"
	expect_fixed "mem:   [0000000000100000-000000000ffe0000) available"
	expect_fixed "cpu: 2 CPU(s) found (0 disabled in firmware)"
	expect_vmx_refusal
}

case_qemu_modules() {
	head -c 10000 /dev/urandom >"$case_dir/mod0"
	printf 'hello' >"$case_dir/mod1"
	boot --emu qemu --cmdline "poweroff" --module "$case_dir/mod0" "dom0 console=ttyS0" \
		--module "$case_dir/mod1" "initrd"
	expect_fixed "boot: 2 module(s)"
	expect_regex "boot:   module 0 \[0x[0-9a-f]+000-0x[0-9a-f]+\) 10000 bytes 'dom0 console=ttyS0'"
	expect_regex "boot:   module 1 \[0x[0-9a-f]+000-0x[0-9a-f]+\) 5 bytes 'initrd'"
	expect_vmx_refusal
}

# --- command line ------------------------------------------------------------------------------
case_qemu_loglevel_warn() {
	boot --emu qemu --cmdline "loglevel=warn poweroff"
	expect_not_fixed "mem: usable"
	expect_not_fixed "cpu: "
	expect_vmx_refusal
}

case_qemu_loglevel_bad() { # and a console option with a baud rate a 16550 cannot make
	boot --emu qemu --cmdline "loglevel=loud com1=0x3f8,12345 poweroff"
	expect_fixed "hv: unknown loglevel 'loud' (err, warn, info, debug)"
	expect_fixed "hv: com1= wants PORT,BAUD (a baud that divides 115200); COM1 kept"
	expect_fixed "mem: usable"
	expect_vmx_refusal
}

# --- faults are reported, then the run ends cleanly --------------------------------------------
case_bochs_crash_ud() {
	boot --emu bochs --cmdline "poweroff crash=ud"
	expect_fixed "*** EXCEPTION on CPU (APIC id 0): vector 6 (#UD invalid opcode) error 0"
	expect_regex "  RIP ffffffff802[0-9a-f]{5} CR2 "
	expect_regex "  RAX [0-9a-f]{16} RBX [0-9a-f]{16} RCX [0-9a-f]{16} RDX [0-9a-f]{16}"
	expect_fixed "*** PANIC on CPU (APIC id 0): trap: unhandled exception 6 (#UD invalid opcode)"
	expect_fixed "--- last log lines ---"
	expect_result FAIL
}

case_qemu_crash_pf() {
	boot --emu qemu --cmdline "poweroff crash=pf"
	expect_fixed "vector 14 (#PF page fault) error 0"
	expect_regex "  RIP ffffffff802[0-9a-f]{5} CR2 0000000000001000"
	expect_result FAIL
}

case_qemu_panic() {
	boot --emu qemu --cmdline "poweroff crash=panic"
	expect_fixed "*** PANIC on CPU (APIC id 0): hv: panic requested on the command line"
	expect_regex "  CR0 [0-9a-f]{16}  CR2 [0-9a-f]{16}  CR3 [0-9a-f]{16}  CR4 [0-9a-f]{16}"
	expect_fixed "hv: crash test 'panic' requested"
	expect_fixed "hv: result: FAIL (hv: panic requested on the command line)"
}

# --- VMX: refusal without it, guest self-tests with it ---------------------------------------------
case_qemu_tcg_refuses() {
	boot --emu qemu --cpus 2 --cmdline "poweroff selftest"
	expect_fixed "vmx: this CPU cannot run the hypervisor; missing: VMX (CPUID.1:ECX[5])"
	expect_fixed "hv: result: FAIL (this CPU cannot run the hypervisor (see above))"
	expect_not_fixed "selftest:"
}

selftest_expect() { # $1: number of CPUs
	local n=$((11 * $1 + 1)) c
	expect_fixed "vmx: EPT 4K 2M 1G A/D, VPID, unrestricted guest, MSR/IO bitmaps, preemption timer yes"
	for ((c = 0; c < $1; c++)); do
		expect_fixed "vmx: CPU $c (APIC id $c) in VMX root operation"
	done
	expect_fixed "smp: $1 CPU(s) online"
	expect_fixed "1..$n"
	expect_not_fixed "not ok"
	expect_regex "^ok $n - cpu0: 1000 VMs created and destroyed leak no frame"
	expect_regex "^selftest: free frames before ([0-9]+) after \\1[[:space:]]*\$"
	expect_fixed "ok 11 - cpu0: XMM0 survives another guest's run (extended state is per vCPU)"
	expect_fixed "selftest: $n passed, 0 failed"
	expect_result PASS
}

case_bochs_selftest_1cpu() {
	boot --emu bochs --cpus 1 --cmdline "poweroff selftest" --timeout 300
	selftest_expect 1
}

case_bochs_selftest_2cpu() {
	boot --emu bochs --cpus 2 --cmdline "poweroff selftest" --timeout 300
	selftest_expect 2
	expect_fixed "ok 21 - cpu1: INIT parks a vCPU, SIPI starts it at the vector"
	expect_fixed "ok 22 - cpu1: XMM0 survives another guest's run (extended state is per vCPU)"
}

# --- dom0 -------------------------------------------------------------------------------------------
# Bochs's tigerlake model crashes this kernel even without the hypervisor: dom0 runs use skylake-X.
DOM0_ARGS="console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog"

dom0_boot() { # $1: CPUs, $2: dom0 tests (comma-separated), $3: more kernel arguments, $4: hv's
	boot --emu bochs --model corei7_skylake_x --cpus "$1" --timeout 400 --cmdline "poweroff ${4:-}" \
		--module "$root/build/dom0/vmlinux" "$DOM0_ARGS dom0test=$2 ${3:-}" \
		--module "$root/build/dom0/initramfs.cpio" initrd
}

expect_poweroff_by_dom0() {
	grep -q "ACPI control: soft power off" "$case_dir/bochs.log" && return
	note "dom0 did not power the machine off"
	case_failed=1
}

case_bochs_dom0_2cpu() {
	dom0_boot 2 smp,hvlog,hvmem,cpu,hvcall,kvm
	expect_fixed "dom0: starting on 2 CPU(s)"
	expect_fixed "dom0: init reached (2 CPUs, kernel 6.1."
	expect_fixed "dom0: test smp: PASS"
	expect_fixed "dom0: test hvlog: PASS"
	expect_fixed "dom0: test hvmem: PASS"
	expect_fixed "dom0: CPU 0's local APIC: x2APIC"
	expect_fixed "dom0: CPU 1's local APIC: x2APIC"
	expect_fixed "cpucheck: hypervisor leaf max 0x40000001 signature 'uHVuHVuHVuHV'"
	expect_fixed "cpucheck: leaf 0x40000100 max 0x40000101 signature 'KVMKVMKVM', features 0"
	expect_fixed "cpucheck: VMXON ends the process with signal 4 (SIGILL is 4)"
	expect_fixed "cpucheck: VMCALL from user space returns -1"
	expect_fixed "cpucheck: YMM registers across context switches: 0 of 150 rounds lost them"
	expect_fixed "dom0: test cpu: PASS"
	expect_fixed "hvcall: map a frame dom0 does not own: -14 (want -14) ok"
	expect_fixed "hvcall: value: 66 (want 66) ok"
	expect_fixed "hvcall: set bad sregs: -22 (want -22) ok"
	expect_fixed "hvcall: AL: 90 (want 90) ok"
	expect_fixed "hvcall: local APIC in x2APIC mode"
	expect_fixed "hvcall: apic base: moving the page is refused: 1 (want 1) ok"
	expect_fixed "hvcall: apic base: flipping the BSP flag is refused: 1 (want 1) ok"
	expect_fixed "dom0: test hvcall: PASS"
	expect_fixed "kvm_basic: ok OUT data: got 66, want 66"
	expect_fixed "kvm_basic: ok second OUT data: got 119, want 119"
	expect_fixed "kvm_basic: ok exit reason HLT: got 5, want 5"
	expect_fixed "kvm_basic: ok BX holds what the read returned: got 43981, want 43981"
	expect_fixed "kvm_basic: ok ... both elements in one exit: got 2, want 2"
	expect_fixed "kvm_irqchip: ok the restored guest carries on: its timer ticks on: got 1, want 1"
	expect_fixed "kvm_irqchip: ok GSI 31's MSI reaches it: got 87, want 87"
	expect_fixed "kvm_irqchip: ok the resamplefd was signalled: got 8, want 8"
	expect_fixed "kvm_smp: ok ... frame B: got 66, want 66"
	expect_fixed "kvm_basic: ok VM ioctl from another process gives EIO: got 1, want 1"
	expect_regex "kvm_basic: ok every hypervisor frame back after close: got ([0-9]+), want \\1"
	expect_regex "^[0-9]+ passed, 0 failed"
	expect_fixed "dom0: test kvm: PASS"
	expect_not_regex "dom0: test [a-z]+: FAIL"
	expect_poweroff_by_dom0
}

# hostile dom0 user space against /dev/kvm: no oops, no panic, no frame lost
# Where the firmware took 2 MiB, GRUB loads the image higher (the relocatable multiboot2 tag):
# hv-reloc.elf asks for 8 MiB or above; it runs there, 2 CPUs, dom0 and /dev/kvm included
case_bochs_relocated() {
	boot --emu bochs --model corei7_skylake_x --cpus 2 --timeout 400 --cmdline poweroff \
		--hv "$root/build/hv-reloc.elf" \
		--module "$root/build/dom0/vmlinux" "$DOM0_ARGS dom0test=smp,hvmem,kvm kvmtests=kvm_basic" \
		--module "$root/build/dom0/initramfs.cpio" initrd
	expect_regex "^mem: hypervisor image \\[0x800000-0x8[0-9a-f]{5}\\)"
	expect_fixed "smp: 2 CPU(s) online"
	expect_fixed "dom0: test smp: PASS"
	expect_fixed "dom0: test hvmem: PASS"
	expect_fixed "kvmtest: kvm_basic pass"
	expect_fixed "dom0: test kvm: PASS"
	expect_poweroff_by_dom0
}

# A 4-CPU machine, every CPU a dom0 vCPU, /dev/kvm on it
case_bochs_dom0_4cpu() {
	dom0_boot 4 smp,kvm "kvmtests=kvm_basic,kvm_smp"
	expect_fixed "smp: 4 CPU(s) online"
	expect_fixed "dom0: starting on 4 CPU(s)"
	expect_fixed "dom0: init reached (4 CPUs, kernel 6.1."
	expect_fixed "smp: nproc 4 (want 4)"
	expect_fixed "dom0: test smp: PASS"
	expect_fixed "kvmtest: kvm_basic pass"
	expect_fixed "kvmtest: kvm_smp pass"
	expect_fixed "dom0: test kvm: PASS"
	expect_poweroff_by_dom0
}

# Firmware that hands over the local APIC in x2APIC mode (GRUB's wrmsr plays the firmware): the
# hypervisor runs with it, dom0's kernel finds it on and keeps it, SMP and /dev/kvm work
case_bochs_dom0_x2apic_firmware() {
	HV_GRUB_PRE="insmod wrmsr; wrmsr 0x1b 0xfee00d00" dom0_boot 2 apic,smp,kvm "kvmtests=kvm_smp"
	expect_fixed "acpi: ACPI 1.0 RSDP; local APIC at 0xfee00000 (x2APIC mode)"
	expect_fixed "apic: x2apic: enabled by BIOS, switching to x2apic ops"
	expect_not_fixed "dom0: CPU 0's local APIC" # already on: no switch
	expect_fixed "dom0: CPU 1's local APIC: x2APIC"
	expect_fixed "dom0: test apic: PASS"
	expect_fixed "dom0: test smp: PASS"
	expect_fixed "kvmtest: kvm_smp pass"
	expect_fixed "dom0: test kvm: PASS"
	expect_poweroff_by_dom0
}

case_bochs_dom0_kvm_fuzz() {
	dom0_boot 1 kvmfuzz
	expect_regex "kvm_fuzz: [0-9]+ calls succeeded, [0-9]+ failed; hypervisor free frames before ([0-9]+) after \\1"
	expect_fixed "dom0: test kvmfuzz: PASS"
	expect_poweroff_by_dom0
}

# hostile dom0 kernel against the hypercalls, from both CPUs, its buffers rewritten meanwhile:
# the hypervisor stays up and gets every frame back
case_bochs_dom0_hostile() {
	dom0_boot 2 hvhostile nox2apic # dom0 in xAPIC mode: its ICR writes trapped on the page
	expect_not_fixed "local APIC: x2APIC"
	expect_regex "hvhostile: seed [0-9]+: [0-9]+ calls succeeded, [0-9]+ failed, on 2 CPUs"
	expect_regex "hvhostile: hypervisor free frames before ([0-9]+) after \\1"
	expect_fixed "hvhostile: ABI version after: $(sed -n 's/^#define HV_ABI_VERSION \([0-9]*\).*/\1/p' \
		"$root/compat/kvmabi/hvabi.h")"
	expect_fixed "dom0: test hvhostile: PASS"
	expect_poweroff_by_dom0
}

# dom0's console lines and the hypervisor's (sampling dom0 every 20 ms) never break each other, and
# the burst's tail still queued in the tty when the tests end reaches the port before the power-off
# (on 2 CPUs, without init's drain, it lost the last 26 lines in 1 run of 2)
case_bochs_dom0_console() {
	local pat="abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789"
	dom0_boot 2 console "" dom0sample=20
	expect_fixed "dom0: test console: PASS"
	local good hv mixed
	good=$(tr -d '\r' <"$case_dir/serial.log" | grep -cE "^console-check [0-9]+ $pat\$")
	hv=$(tr -d '\r' <"$case_dir/serial.log" | grep -cE "^dom0: CPU 0 at RIP 0x[0-9a-f]+ RFLAGS 0x[0-9a-f]+\$")
	mixed=$(grep -c "console-check.*dom0: CPU\|dom0: CPU.*console-check" "$case_dir/serial.log")
	note "console: $good intact dom0 lines of 400, $hv intact hypervisor lines, $mixed mixed"
	[ "$good" -eq 400 ] && [ "$hv" -ge 10 ] && [ "$mixed" -eq 0 ] || case_failed=1
}

case_bochs_dom0_panic_reset() {
	dom0_boot 1 panic
	expect_fixed "Kernel panic - not syncing: Attempted to kill init!"
	expect_regex "^\\*\\*\\* dom0 asked for a reset \\(port 0x(cf9 value 0x6|64 value 0xfe)\\)"
	expect_result "FAIL \\(dom0 asked for a reset\\)"
}

# reboot=t: Linux resets with an empty IDT; the #DF on the way to the triple fault is caught
case_bochs_dom0_fatal_fault() {
	dom0_boot 1 panic reboot=t
	expect_fixed "*** dom0 double fault (exit kind 5, reason 0, qualification 0)"
	expect_regex "vCPU 0: RIP [0-9a-f]{16} RSP [0-9a-f]{16}"
	expect_regex "IDTR 0000000000000000/0[[:space:]]*$"
	expect_fixed "  last exits (oldest first):"
	expect_result "FAIL \\(double fault\\)"
}

# dom0's kernel booted by GRUB alone: its init loads kvm_hv, which must refuse in one line
case_bochs_native_nohv() {
	local bz
	bz=$("$root/scripts/dom0-bzimage.sh") && "$root/scripts/native-iso.sh" "$case_dir/native.iso" \
		"$bz" "$root/build/dom0/initramfs.cpio" "$DOM0_ARGS dom0test=nohv" || {
		note "could not make the native ISO"
		case_failed=1
		return
	}
	boot --emu bochs --model corei7_skylake_x --iso "$case_dir/native.iso" --timeout 300
	expect_fixed "nohv: kvm_hv: no hypervisor: CPUID 0x40000000 does not say uHVuHVuHVuHV; /dev/kvm not offered"
	expect_not_regex "Oops|invalid opcode"
	expect_fixed "dom0: test nohv: PASS"
	expect_poweroff_by_dom0
}

case_bochs_dom0_not_elf() {
	head -c 100000 /dev/urandom >"$case_dir/garbage"
	boot --emu bochs --cmdline "poweroff" --module "$case_dir/garbage" "x" \
		--module "$root/build/dom0/initramfs.cpio" initrd
	expect_fixed "dom0: module 0 is not an ELF file (100000 bytes)"
	expect_result "FAIL \\(dom0: module 0 is not an ELF file"
}

# The console is an option: com1=PORT,BAUD. This Bochs has COM2 and no COM1. With com1=0x2f8 the
# hypervisor and dom0 (console=ttyS1, through the log) print on COM2; without it the hypervisor
# finds no UART at 0x3f8 and boots silently, its log in the ring, which dom0's hvlog shows.
case_bochs_console_no_com1() {
	local mods=(--module "$root/build/dom0/vmlinux" "$DOM0_ARGS console=ttyS1,115200 dom0test=hvlog"
		--module "$root/build/dom0/initramfs.cpio" initrd)
	boot --emu bochs --model corei7_skylake_x --serial com2 --timeout 400 \
		--cmdline "poweroff com1=0x2f8,115200" "${mods[@]}"
	expect_regex "^hv: micro-hypervisor starting"
	expect_fixed "boot: loader 'GRUB 2.06"
	expect_regex "^dom0: init reached"
	expect_fixed "dom0: test hvlog: PASS"
	expect_poweroff_by_dom0
	mv "$case_dir/serial.log" "$case_dir/serial-com1-option.log"
	boot --emu bochs --model corei7_skylake_x --serial com2 --timeout 400 --cmdline poweroff \
		"${mods[@]}"
	expect_not_regex "^((hv|boot|mem|acpi|cpu|vmx|smp): |dom0: starting)" # nothing from the hypervisor
	expect_regex "^dom0: init reached"
	expect_fixed "hvlog: hv: micro-hypervisor starting"
	expect_fixed "hvlog: boot: loader 'GRUB 2.06"
	expect_fixed "dom0: test hvlog: PASS"
	expect_poweroff_by_dom0
}

# One hybrid ISO (grub-mkrescue with GRUB's BIOS and EFI builds) booted by UEFI and by BIOS. Its
# dom0 is the project's kernel as a bzImage (the Linux x86 boot protocol's 32-bit entry,
# boot_params) instead of its ELF vmlinux: to init, with its initrd, and /dev/kvm working
case_hybrid_iso_uefi_bios_bzimage() {
	# UEFI: GRUB EFI loads the hypervisor and the modules; it finds the machine, starts the
	# APs from free low memory, and refuses for lack of VMX (QEMU TCG has none)
	boot --emu qemu-efi --megs 512 --cpus 4 --timeout 300 --cmdline "poweroff" \
		--module "$("$root/scripts/dom0-bzimage.sh")" "$DOM0_ARGS dom0test=kvm kvmtests=kvm_basic" \
		--module "$root/build/dom0/initramfs.cpio" initrd
	expect_regex "BdsDxe: starting Boot[0-9A-F]+ \"UEFI QEMU DVD-ROM"
	expect_fixed "boot: loader 'GRUB 2.06"
	expect_regex "^mem:   \[0000000000100000-[0-9a-f]+\) available"
	expect_fixed "ACPI NVS"
	expect_fixed "boot: 2 module(s)"
	expect_fixed "acpi: ACPI 2.0+ RSDP; local APIC at 0xfee00000"
	expect_regex "^acpi: MADT at 0x[0-9a-f]+, [0-9]+ bytes"
	expect_regex "^acpi: FADT at 0x[0-9a-f]+, [0-9]+ bytes"
	expect_fixed "cpu: 4 CPU(s) found (0 disabled in firmware)"
	expect_regex "^smp: AP start code at 0x[0-9a-f]+000"
	expect_fixed "smp: 4 CPU(s) online"
	expect_vmx_refusal
	grep -q "^smp: AP start code at 0x[0-9a-f]\{1,2\}000\b" "$case_dir/serial.log" ||
		{ note "AP start code not below 1 MiB"; case_failed=1; }
	mv "$case_dir/serial.log" "$case_dir/serial-uefi.log"
	# BIOS: the same ISO through BIOS GRUB in Bochs, to dom0 (the project's kernel as a bzImage)
	boot --emu bochs --model corei7_skylake_x --cpus 1 --timeout 400 --iso "$case_dir/hv.iso"
	expect_regex "dom0: kernel \\[0x[0-9a-f]+-0x[0-9a-f]+\\), bzImage 32-bit entry 0x"
	expect_fixed "dom0: init reached (1 CPUs, kernel 6.1."
	expect_fixed "kvmtest: kvm_basic pass"
	expect_fixed "dom0: test kvm: PASS"
	expect_poweroff_by_dom0
}

# Debian's own kernel (linux-image-amd64, a bzImage) as dom0 with kvm_hv built for it by DKMS
# (scripts/stock-dom0.sh): to init, its kvm_intel refusing to load, kvm_basic through kvm_hv
case_bochs_dom0_debian_kernel() {
	local files
	files=$("$root/scripts/stock-dom0.sh" 2>"$case_dir/build.log") || {
		note "could not build the stock dom0 (see $case_dir/build.log)"
		case_failed=1
		return
	}
	boot --emu bochs --model corei7_skylake_x --cpus 1 --megs 1024 --timeout 900 \
		--cmdline "poweroff" --module "${files% *}" "$DOM0_ARGS dom0test=kvmintel,kvm \
		kvmtests=kvm_basic" --module "${files#* }" initrd
	expect_regex "dom0: kernel \\[0x[0-9a-f]+-0x[0-9a-f]+\\), bzImage 32-bit entry 0x"
	expect_regex "dom0: init reached \\(1 CPUs, kernel [0-9.]+-[0-9]+-amd64\\)"
	expect_regex "^kvmintel: kvm_intel refused: "
	expect_fixed "kvmintel: /dev/kvm is kvm_hv's"
	expect_fixed "dom0: test kvmintel: PASS"
	expect_fixed "kvmtest: kvm_basic pass"
	expect_fixed "dom0: test kvm: PASS"
	expect_poweroff_by_dom0
}

# make install's GRUB generator on a staged /boot holding Debian's stock kernel and a dom0
# initramfs (scripts/stock-dom0.sh) as its initrd: the very entry it writes, in a GRUB ISO,
# boots the hypervisor and that kernel as dom0 to its marker, kvm_basic passing
case_bochs_grub_generated() {
	local stage=$case_dir/stage files kernel
	rm -rf "$stage"
	files=$("$root/scripts/stock-dom0.sh" 2>"$case_dir/build.log") &&
		make -s -C "$root" install DESTDIR="$stage" >>"$case_dir/build.log" 2>&1 || {
		note "could not stage /boot (see $case_dir/build.log)"
		case_failed=1
		return
	}
	kernel=${files% *}
	kernel=${kernel##*/vmlinuz-}
	cp "${files% *}" "$stage/boot/vmlinuz-$kernel"
	cp "${files#* }" "$stage/boot/initrd.img-$kernel"
	mkdir -p "$stage/boot/grub"
	{
		echo "set timeout=0"
		HV_GRUB_ROOT=$stage GRUB_DISTRIBUTOR=Debian GRUB_CMDLINE_HV=poweroff \
			GRUB_CMDLINE_LINUX="$DOM0_ARGS dom0test=kvm kvmtests=kvm_basic" \
			"$stage/etc/grub.d/20_linux_hv"
	} >"$stage/boot/grub/grub.cfg" 2>>"$case_dir/build.log"
	sed 's/^/    grub.cfg: /' "$stage/boot/grub/grub.cfg"
	rm -rf "$stage/etc" "$stage/usr" # (the ISO holds /boot only)
	grub-mkrescue -o "$case_dir/generated.iso" "$stage" >>"$case_dir/build.log" 2>&1 || {
		note "grub-mkrescue failed (see $case_dir/build.log)"
		case_failed=1
		return
	}
	boot --emu bochs --model corei7_skylake_x --cpus 1 --megs 1024 --timeout 900 \
		--iso "$case_dir/generated.iso"
	grep -qF "menuentry 'Debian GNU/Linux, with hv ($kernel)'" "$stage/boot/grub/grub.cfg" || {
		note "the generator wrote no entry for $kernel"
		case_failed=1
	}
	expect_regex "dom0: kernel \\[0x[0-9a-f]+-0x[0-9a-f]+\\), bzImage 32-bit entry 0x"
	expect_fixed "dom0: init reached (1 CPUs, kernel $kernel)"
	expect_fixed "kvmtest: kvm_basic pass"
	expect_fixed "dom0: test kvm: PASS"
	expect_poweroff_by_dom0
}

# Debian's unmodified qemu-system-x86_64 in dom0, default in-kernel irqchip, boots a Linux guest
# (the dom0 kernel) on /dev/kvm to the marker its init prints (scripts/qemu-in-dom0.sh).
qemu_boot() { # $1: qemu.extra= for dom0's command line (QEMU's extra arguments), or nothing;
	# $2: the dom0 test (qemu: the guest boots to its marker and powers off)
	local test=${2:-qemu}
	qemu_dom0 "dom0test=$test ${1:-}" || return
	expect_fixed "qemu-guest: init ran under"
	expect_regex "^(qemunet: )?qemu-guest: clocksources .*kvm-clock.*, year $(date +%Y)"
	expect_fixed "dom0: test $test: PASS"
	expect_poweroff_by_dom0
}

qemu_dom0() { # $1: dom0's test arguments: boots dom0 with QEMU in its initramfs
	"$root/scripts/qemu-in-dom0.sh" --initramfs >"$case_dir/build.log" 2>&1 || {
		note "could not build the QEMU initramfs (see $case_dir/build.log)"
		case_failed=1
		return 1
	}
	boot --emu bochs --cpus 1 --megs 1024 --timeout 900 --cmdline "poweroff" \
		--module "$root/build/dom0/vmlinux" "$DOM0_ARGS $1" \
		--module "$root/build/qemu/initramfs.cpio" initrd
}

# two vCPUs (the guest's AP started through QEMU), and a reboot of the guest (reboot -f: QEMU
# resets the vCPUs, x2APIC back to xAPIC) back to its marker
qemu_smp_reboot() {
	expect_regex "^qemu-guest: cpus online 0-1"
	expect_fixed "qemu-guest: rebooting"
	expect_fixed "qemu-guest: back after the reboot"
}

case_bochs_dom0_qemu() {
	qemu_boot "qemu.extra=-smp,2 qemu.reboot"
	qemu_smp_reboot
}

# QEMU's -machine kernel_irqchip=split: its own PIC, IOAPIC and PIT, the local APICs here
# (QEMU exits when it cannot enable KVM_CAP_SPLIT_IRQCHIP)
case_bochs_dom0_qemu_split() {
	qemu_boot "qemu.extra=-machine,kernel_irqchip=split,-smp,2 qemu.reboot"
	qemu_smp_reboot
}

# the conformance guest of tests/conform/ under QEMU in dom0, in each irqchip mode: every check
# passes before and after a reset of the VM and after a triple fault (guests/dom0/tests/qconform.sh)
case_bochs_dom0_qconform() {
	qemu_dom0 dom0test=qconform || return
	for mode in kernel split off; do
		expect_regex "^qconform: $mode before the reset: [0-9]+ passed, 0 failed"
		expect_regex "^qconform: $mode after the reset: [0-9]+ passed, 0 failed"
		expect_regex "^qconform: $mode after the triple fault: [0-9]+ passed, 0 failed"
	done
	expect_regex "^qconform: [0-9]+ passed, 0 failed"
	expect_fixed "dom0: test qconform: PASS"
	expect_poweroff_by_dom0
}

# a virtio-net device on a tap interface in a bridge of dom0's: the guest answers dom0's ping
case_bochs_dom0_qemu_net() {
	qemu_boot "" qemunet
	expect_regex "^qemunet: 3 packets transmitted, 3 packets received"
}

# --- upstream KVM selftests (Linux 6.1, scripts/kvm-selftests.sh) ---------------------------------
# The tests that must pass: extend this list as /dev/kvm grows. Every other test only has to
# report a verdict (pass, fail or skip) in the table.
SELFTESTS_REQUIRED="kvm_create_max_vcpus kvm_binary_stats_test x86_64/get_msr_index_features
	x86_64/max_vcpuid_cap_test x86_64/set_sregs_test
	set_memory_region_test kvm_page_table_test memslot_modification_stress_test demand_paging_test
	dirty_log_perf_test x86_64/sync_regs_test x86_64/userspace_io_test
	x86_64/userspace_msr_exit_test x86_64/emulator_error_test x86_64/tsc_msrs_test x86_64/debug_regs
	x86_64/cpuid_test x86_64/state_test x86_64/set_boot_cpu_id x86_64/kvm_clock_test
	x86_64/xapic_ipi_test x86_64/xapic_state_test x86_64/kvm_pv_test x86_64/fix_hypercall_test
	x86_64/monitor_mwait_test x86_64/platform_info_test x86_64/ucna_injection_test steal_time
	x86_64/smm_test x86_64/hyperv_clock x86_64/hyperv_cpuid x86_64/hyperv_features"

# The initramfs with the selftests is ~70 MB and is unpacked into RAM next to its own copy;
# the tests then map guest memory: 1 GiB of machine memory.
case_bochs_dom0_selftests() {
	make -s -C "$root" build/dom0/initramfs-selftests.cpio >/dev/null || {
		note "could not build the selftests initramfs"
		case_failed=1
		return
	}
	boot --emu bochs --model corei7_skylake_x --cpus 1 --megs 1024 --timeout 900 --cmdline "poweroff" \
		--module "$root/build/dom0/vmlinux" "$DOM0_ARGS dom0test=selftests" \
		--module "$root/build/dom0/initramfs-selftests.cpio" initrd
	# the table, then its checks: a line for every program built (a verdict is always followed
	# by a space, then the reason)
	tr -d '\r' <"$case_dir/serial.log" | grep -E '^selftests?: ' | sed 's/^/    /'
	local t
	while IFS= read -r t; do
		expect_regex "^selftest: $t (pass|fail|skip) "
	done <"$(cat "$root/build/dom0/selftests-dir")/tests.list"
	expect_regex "^selftests: [0-9]+ pass, [0-9]+ fail, [0-9]+ skip"
	for t in $SELFTESTS_REQUIRED; do
		expect_regex "^selftest: $t pass "
	done
	expect_fixed "dom0: test selftests: PASS"
	expect_poweroff_by_dom0
}

run_cases "$@"
