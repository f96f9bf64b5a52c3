#!/usr/bin/env bash
# make install / make uninstall, as root on the lab machine (DESTDIR=DIR stages into DIR instead
# and leaves DKMS and GRUB alone):
#   /boot/hv.elf                   the hypervisor
#   /etc/grub.d/20_linux_hv        GRUB generator: one "with hv" entry per installed kernel
#   /etc/default/grub.d/hv.cfg     the hypervisor's options (GRUB_CMDLINE_HV), kept if present
#   /usr/src/kvm-hv-VERSION        kvm_hv's sources for DKMS, which builds it for every installed
#                                  kernel and for each one installed later
# then, without DESTDIR, DKMS builds and installs kvm_hv and update-grub writes the menu.
set -euo pipefail
cd "$(dirname "$0")/../.."
action=${1:-install}
dest=${DESTDIR:-}
# (a version DKMS can order: the commit's time)
version=0.$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S 2>/dev/null || echo 0)

dkms_installed() { # the versions of kvm-hv DKMS knows
	dkms status -m kvm-hv 2>/dev/null | sed -n 's|^kvm-hv/\([^,:]*\).*|\1|p' | sort -u
}

case $action in
install)
	[ -f build/hv.elf ] || make -s all
	install -D -m 0644 build/hv.elf "$dest/boot/hv.elf"
	install -D -m 0755 scripts/install/grub-hv "$dest/etc/grub.d/20_linux_hv"
	[ -f "$dest/etc/default/grub.d/hv.cfg" ] ||
		install -D -m 0644 scripts/install/hv.cfg "$dest/etc/default/grub.d/hv.cfg"
	src=$dest/usr/src/kvm-hv-$version
	rm -rf "$src" && mkdir -p "$src"
	cp compat/kvmabi/*.c compat/kvmabi/*.h compat/kvmabi/Kbuild "$src/"
	sed "s/@VERSION@/$version/" compat/kvmabi/dkms.conf >"$src/dkms.conf"
	echo "install: hv.elf, the GRUB generator and kvm-hv/$version's sources in ${dest:-/}"
	[ -n "$dest" ] && exit 0
	for v in $(dkms_installed); do
		[ "$v" = "$version" ] || dkms remove -m kvm-hv -v "$v" --all
	done
	dkms_installed | grep -qx "$version" || dkms add -m kvm-hv -v "$version"
	for k in /lib/modules/*/build; do # every installed kernel with its headers
		k=$(basename "$(dirname "$k")")
		dkms install -m kvm-hv -v "$version" -k "$k"
	done
	update-grub
	;;
uninstall)
	rm -f "$dest/boot/hv.elf" "$dest/etc/grub.d/20_linux_hv" "$dest/etc/default/grub.d/hv.cfg"
	if [ -z "$dest" ]; then
		for v in $(dkms_installed); do dkms remove -m kvm-hv -v "$v" --all; done
	fi
	rm -rf "$dest"/usr/src/kvm-hv-*
	[ -n "$dest" ] || update-grub
	echo "uninstall: done in ${dest:-/}"
	;;
*)
	echo "usage: $0 install|uninstall" >&2
	exit 2
	;;
esac
