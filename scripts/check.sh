#!/usr/bin/env bash
# make check: the include floors of hv/ (scripts/check-floors.py), cppcheck on hv/ and boot/ with no
# findings, clang-format clean, checkpatch on the kernel code, scripts/stages.patch still applies.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0 fail=0
gate() {
	local name=$1
	shift
	if "$@" >"build/check-$name.log" 2>&1; then
		echo "check: $name: ok"
		pass=$((pass + 1))
	else
		echo "check: $name: FAILED"
		cat "build/check-$name.log"
		fail=$((fail + 1))
	fi
}
mkdir -p build
gate floors scripts/check-floors.py
srcs=$(git ls-files 'hv/*.c' 'boot/*.c' 'tests/hv/*.c')
gate cppcheck cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	--std=c11 --inline-suppr -Ihv -D__x86_64__ --suppress=missingIncludeSystem $srcs
# kernel code (a module: MODULE_LICENSE) follows the kernel's style, checked by checkpatch below
kernel_c=$(git grep -l MODULE_LICENSE -- 'tests/kvm/*.c' 'compat/*.c')
user_c=$(git ls-files 'tests/kvm/*.[ch]' 'tests/conform/*.c' | grep -vxF "$kernel_c")
gate clang-format clang-format --dry-run --Werror \
	$(git ls-files 'hv/*.[ch]' 'boot/*.[ch]' 'tests/hv/*.[ch]' 'tests/unit/*.[ch]' 'tests/fuzz/*.[ch]' 'compat/*.h') \
	$user_c

# dom0 kernel code follows the kernel's style: checkpatch from Debian's linux-source-6.1
checkpatch() {
	local cp=build/checkpatch/scripts/checkpatch.pl
	if [ ! -f "$cp" ]; then
		mkdir -p build/checkpatch
		tar -xf /usr/src/linux-source-6.1.tar.xz -C build/checkpatch --strip-components=1 \
			--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch' || return 1
	fi
	local rc=0 f
	for f in $kernel_c; do
		perl "$cp" --no-tree --quiet -f "$f" || rc=1
	done
	return $rc
}
gate checkpatch checkpatch
gate stages-patch git apply --check scripts/stages.patch # make stages' counters still apply
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
