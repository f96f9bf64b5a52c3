#!/usr/bin/env bash
# Builds the upstream KVM selftests of Debian's linux-source-6.1 (every x86_64 program of
# TEST_GEN_PROGS_x86_64) as static, stripped binaries for dom0. The source tree that
# scripts/dom0-kernel.sh extracted stays untouched: UAPI headers go to a scratch O= tree and
# objects to a scratch OUTPUT=. The result is cached under /var/cache/hv/kvm-selftests-<hash>/,
# keyed by the source version, RECIPE and the compiler, so a second run is a no-op.
# Layout of the result: bin/<name> (name as in the Makefile, e.g. x86_64/set_sregs_test) and
# tests.list (one name a line, in the Makefile's order).
# Prints the path of the result on its last line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${HV_CACHE:-/var/cache/hv}
# the kernel script extracts the source (and builds dom0's kernel, which dom0 needs anyway)
"$root/scripts/dom0-kernel.sh" >/dev/null
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
src=$cache/linux-source-$ver
# bump RECIPE when the build commands below change what is built
RECIPE=1
key=$( { echo "$ver $RECIPE"; gcc --version | head -1; } | sha256sum | cut -c1-16)
out=$cache/kvm-selftests-$key
exec 9>"$cache/.lock"
flock 9 # one build at a time: a second caller waits, then finds the result
if [ ! -f "$out/.built" ]; then
	echo "kvm-selftests: building into $out (about 30 s on 2 cores)" >&2
	t0=$SECONDS
	rm -rf "$out" "$out.tmp" && mkdir -p "$out.tmp"
	scratch=$out.tmp/build
	# UAPI headers of this very kernel (the suite needs the newest linux/kvm.h)
	# ("headers", not "headers_install", which wants rsync)
	make -s -C "$src" O="$scratch/hdr" ARCH=x86 headers >&2
	kvm=$src/tools/testing/selftests/kvm
	# Two backports in Debian's 6.1 stable tree do not build as they stand, fixed by a forced
	# include: the UAPI asm/kvm.h uses __DECLARE_FLEX_ARRAY, but the tools' linux/types.h it
	# gets does not pull in linux/stddef.h; dirty_log_test.c uses TEST_ASSERT_EQ, which this
	# test_util.h lacks (it came later upstream)
	cat >"$scratch/compat.h" <<-'EOF'
		#ifndef __ASSEMBLER__
		#include <linux/stddef.h>
		#endif
		#ifndef TEST_ASSERT_EQ
		#define TEST_ASSERT_EQ(a, b) TEST_ASSERT((a) == (b), "%s == %s failed: %lld != %lld", \
			#a, #b, (long long)(a), (long long)(b))
		#endif
	EOF
	# objects and compiler probes (TMPOUT) go to the scratch tree; the log is kept only on
	# failure (static glibc warns about dlopen in every program)
	kmake=(make -s -C "$kvm" ARCH=x86_64 OUTPUT="$scratch/obj" TMPOUT="$scratch/try"
		KHDR_INCLUDES="-isystem $scratch/hdr/usr/include" USERLDFLAGS="-static -s"
		EXTRA_CFLAGS="-include $scratch/compat.h")
	"${kmake[@]}" -j"$(nproc)" all >"$out.tmp/build.log" 2>&1 ||
		{ tail -n 40 "$out.tmp/build.log" >&2; exit 1; }
	# the program list, straight from the Makefile (make expands it, not the shell)
	# shellcheck disable=SC2016
	"${kmake[@]}" --eval='print-tests: ; @printf "%s\n" $(TEST_GEN_PROGS_x86_64)' print-tests \
		>"$out.tmp/tests.list"
	while IFS= read -r t; do
		install -D -m 0755 "$scratch/obj/$t" "$out.tmp/bin/$t"
	done <"$out.tmp/tests.list"
	rm -rf "$scratch" "$out.tmp/build.log"
	touch "$out.tmp/.built"
	mv "$out.tmp" "$out"
	echo "kvm-selftests: $(wc -l <"$out/tests.list") programs, $(du -sh "$out" | cut -f1)," \
		"built in $((SECONDS - t0)) s" >&2
	# keep the cache to one build: older ones are dead weight
	for old in "$cache"/kvm-selftests-*; do [ "$old" = "$out" ] || rm -rf "$old"; done
fi
echo "$out"
