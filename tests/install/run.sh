#!/usr/bin/env bash
# make install's pieces without touching this machine: make install DESTDIR=stage puts the files
# in place; DKMS (its own trees under build/) builds kvm_hv from the staged sources against
# Debian's stock kernel headers (linux-headers-amd64); the GRUB generator, run on a staged /boot
# with two kernels, writes exactly the expected entries; make uninstall takes the files away.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$PWD/build/install
stage=$out/stage
rm -rf "$out" && mkdir -p "$out"
pass=0 fail=0
ok() { # NAME COMMAND...: passes when the command succeeds
	local name=$1
	shift
	if "$@" >>"$out/log" 2>&1; then
		echo "install: ok $name"
		pass=$((pass + 1))
	else
		echo "install: FAIL $name (see $out/log)"
		fail=$((fail + 1))
	fi
}

ok "make install DESTDIR=stage" make -s install DESTDIR="$stage"
ok "the hypervisor in /boot" cmp build/hv.elf "$stage/boot/hv.elf"
ok "the GRUB generator, executable" test -x "$stage/etc/grub.d/20_linux_hv"
ok "the options file" grep -qx 'GRUB_CMDLINE_HV=""' "$stage/etc/default/grub.d/hv.cfg"
src=$(ls -d "$stage"/usr/src/kvm-hv-* 2>/dev/null | head -n 1)
version=${src##*/kvm-hv-}
ok "kvm_hv's DKMS sources, versioned" grep -qx "PACKAGE_VERSION=\"$version\"" "$src/dkms.conf"

# DKMS against the stock headers (the newest linux-headers-*-amd64 installed)
kernel=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V |
	tail -n 1)
trees=(--sourcetree "$stage/usr/src" --dkmstree "$out/dkms" --installtree "$out/modules")
mkdir -p "$out/dkms" "$out/modules"
ok "Debian's stock kernel headers are installed ($kernel)" test -n "$kernel"
ok "dkms add" dkms add -m kvm-hv -v "$version" "${trees[@]}"
ok "dkms build against $kernel" dkms build -m kvm-hv -v "$version" -k "$kernel" "${trees[@]}"
ko=$(find "$out/dkms/kvm-hv/$version/$kernel" -name 'kvm_hv.ko*' 2>/dev/null | head -n 1)
ok "the module is for that kernel (vermagic)" \
	sh -c "modinfo -F vermagic '$ko' | grep -q '^$kernel SMP'"

# the generator on a staged /boot: two kernels, one with an initrd; newest first
touch "$stage/boot/vmlinuz-6.1.0-57-amd64" "$stage/boot/initrd.img-6.1.0-57-amd64" \
	"$stage/boot/vmlinuz-6.1.0-9-amd64"
HV_GRUB_ROOT=$stage GRUB_DISTRIBUTOR=Debian GRUB_DEVICE_UUID=0123-abcd \
	GRUB_CMDLINE_LINUX="console=ttyS0,115200" GRUB_CMDLINE_LINUX_DEFAULT=quiet \
	GRUB_CMDLINE_HV="loglevel=info" "$stage/etc/grub.d/20_linux_hv" >"$out/grub.cfg" 2>>"$out/log"
cat >"$out/grub.want" <<'WANT'
menuentry 'Debian GNU/Linux, with hv (6.1.0-57-amd64)' --class gnu-linux --class os {
	echo 'Loading hv ...'
	multiboot2 /boot/hv.elf loglevel=info
	echo 'Loading Linux 6.1.0-57-amd64 as dom0 ...'
	module2 /boot/vmlinuz-6.1.0-57-amd64 root=UUID=0123-abcd ro console=ttyS0,115200 quiet
	echo 'Loading initial ramdisk ...'
	module2 --nounzip /boot/initrd.img-6.1.0-57-amd64
}
menuentry 'Debian GNU/Linux, with hv (6.1.0-9-amd64)' --class gnu-linux --class os {
	echo 'Loading hv ...'
	multiboot2 /boot/hv.elf loglevel=info
	echo 'Loading Linux 6.1.0-9-amd64 as dom0 ...'
	module2 /boot/vmlinuz-6.1.0-9-amd64 root=UUID=0123-abcd ro console=ttyS0,115200 quiet
}
WANT
ok "the GRUB entries, one per kernel, newest first" diff -u "$out/grub.want" "$out/grub.cfg"
ok "no entries without the hypervisor" \
	sh -c "rm '$stage/boot/hv.elf' && HV_GRUB_ROOT='$stage' '$stage/etc/grub.d/20_linux_hv' | \
		wc -c | grep -qx 0"
ok "make uninstall DESTDIR=stage" make -s uninstall DESTDIR="$stage"
ok "... takes the files away" sh -c "! ls '$stage'/etc/grub.d/20_linux_hv '$stage'/usr/src/kvm-hv-* \
	'$stage'/etc/default/grub.d/hv.cfg 2>/dev/null"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
