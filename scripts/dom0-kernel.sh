#!/usr/bin/env bash
# make dom0-kernel: builds the dom0 kernel (vmlinux, for the PVH entry) from Debian's
# linux-source-6.1 with guests/dom0/dom0.config merged over tinyconfig. The build tree is cached
# outside the clone, keyed by a hash of everything that shapes it, so rebuilding is a no-op.
# `dom0-kernel.sh ref` builds the reference kernel instead: the same configuration plus Linux
# KVM (guests/ref/ref.config), as a bzImage that GRUB boots natively (make referee).
# Prints the path of the build tree (KDIR for module builds) on its last line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${HV_CACHE:-/var/cache/hv}
tarball=/usr/src/linux-source-6.1.tar.xz
[ -r "$tarball" ] || { echo "dom0: $tarball missing: run scripts/deps.sh" >&2; exit 1; }
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
flavour=${1:-dom0}
frags=("$root/guests/dom0/dom0.config")
targets=(vmlinux modules)
if [ "$flavour" = ref ]; then
	frags+=("$root/guests/ref/ref.config")
	targets=(bzImage)
fi
# bump RECIPE when the build commands below change what is built
RECIPE=1
key=$( { cat "${frags[@]}"; echo "$ver $RECIPE"; gcc --version | head -1; } |
	sha256sum | cut -c1-16)
src=$cache/linux-source-$ver
out=$cache/$flavour-$key
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one extraction at a time: a second caller waits, then finds the result
if [ ! -f "$src/.extracted" ]; then
	echo "dom0: extracting linux-source $ver into $src" >&2
	rm -rf "$src.tmp" && mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.extracted"
	rm -rf "$src" && mv "$src.tmp" "$src"
fi
exec 8>"$cache/.lock-$flavour"
flock 8    # one build of a flavour at a time (dom0's and the reference kernel's may overlap)
flock -u 9 # (the shared source tree is only read from here on)
if [ ! -f "$out/.built" ]; then
	echo "$flavour: building the kernel in $out (about 15 minutes on 2 cores)" >&2
	rm -rf "$out" && mkdir -p "$out"
	make -s -C "$src" O="$out" tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
	make -s -C "$src" O="$out" olddefconfig >/dev/null
	# every option's last line in the fragments must have survived (a missing dependency drops
	# options)
	bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=n) ! grep -qE "^${line%=n}=[ym]" "$out/.config" ;;
		CONFIG_*) grep -qxF "$line" "$out/.config" ;;
		*) true ;;
		esac || { echo "$flavour: config wants '$line'" >&2; bad=1; }
	done < <(cat "${frags[@]}" | awk -F= '/^CONFIG_/ { last[$1] = $0; order[++n] = $1 }
		END { for (i = 1; i <= n; i++) if (!seen[order[i]]++) print last[order[i]] }')
	[ $bad -eq 0 ] || exit 1
	make -s -C "$src" O="$out" -j"$(nproc)" "${targets[@]}" >&2
	touch "$out/.built"
	# keep the cache to one kernel: older configurations are dead weight
	for old in "$cache/$flavour"-*; do [ "$old" = "$out" ] || rm -rf "$old"; done
fi
echo "$out"
