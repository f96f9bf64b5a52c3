#!/bin/sh
# The upstream KVM selftests of Linux 6.1 (scripts/kvm-selftests.sh) against /dev/kvm. They are
# only in the selftests initramfs, under /selftests (tests.list gives the order). Each test runs
# under a time limit; exit 0 is pass, 4 (KSFT_SKIP) skip, anything else fail. One line per test:
#   selftest: <name> pass|fail|skip <reason: the test's last meaningful line>
# then "selftests: N pass, N fail, N skip". The script itself fails only when tests are missing.
# Kernel arguments: selftests=a,b runs only those; selftests.exclude=a,b does not start those (a
# verdict "excluded": make referee's for programs that stall Bochs's nested VMX under Linux KVM,
# where no time limit in the guest can end them); selftests.verbose=1 prints each test's output.
dir=/selftests
[ -f $dir/tests.list ] || { echo "selftests: no $dir/tests.list (boot the selftests initramfs)"; exit 1; }
cmdline=" $(cat /proc/cmdline)"
only=$(echo "$cmdline" | sed -n 's/.* selftests=\([^ ]*\).*/\1/p' | tr ',' ' ')
verbose=$(echo "$cmdline" | sed -n 's/.* selftests\.verbose=\([^ ]*\).*/\1/p')
exclude=$(echo "$cmdline" | sed -n 's/.* selftests\.exclude=\([^ ]*\).*/\1/p' | tr ',' ' ')
# init mounts /proc, /sys, devtmpfs and /dev/shm (memfd-backed guest memory wants the latter)
grep -q " /dev/shm " /proc/mounts || mount -t tmpfs tmpfs /dev/shm # (busybox has no mountpoint)
# Guest memory overcommitted, as on a VM host: a slot may be larger than dom0's memory, only what
# the guest touches is backed (dirty_log_test maps 1 GiB on this 1 GiB machine). The same on
# Linux KVM under make referee.
echo 1 >/proc/sys/vm/overcommit_memory

# Time limit (seconds of dom0 time) and arguments per test; the defaults of the long-running
# ones (1 GiB of guest memory, dozens of iterations) would not fit in Bochs.
DEFAULT_LIMIT=10
limits() {
	case $1 in
	dirty_log_test) echo "30 -i 3 -I 10 -M dirty-log" ;; # it wants more than 2 iterations
	dirty_log_perf_test) echo "30 -b 4M -i 2" ;; # at least 2
	demand_paging_test) echo "30 -b 4M" ;;
	access_tracking_perf_test) echo "30 -b 4M" ;;
	kvm_page_table_test) echo "30 -b 4M" ;;
	memslot_modification_stress_test) echo "30 -b 4M -i 10" ;;
	memslot_perf_test) echo "30 -l 1 -r 1" ;;
	# (it computes its vCPU count as 3/4 of the CPUs before reading -c: fails on one CPU)
	max_guest_memory_test) echo "30 -c 1 -m 1 -s 1" ;;
	kvm_create_max_vcpus | hardware_disable_test | rseq_test | set_memory_region_test) echo 30 ;;
	x86_64/xapic_ipi_test) echo "20 -s 2" ;;
	# measured here: 31 s (its four loops of 10^8 NOPs) and 12 s (63 VMs, each slot pinned
	# whole); both under 10 s on Linux KVM in Bochs
	x86_64/hyperv_clock) echo 60 ;;
	x86_64/hyperv_features) echo 30 ;;
	*) echo $DEFAULT_LIMIT ;;
	esac
}

# The reason: for a TEST_ASSERT failure its message plus where and errno; otherwise the last
# line that is not noise (the stack dump wants addr2line, which dom0 does not have).
reason() {
	awk '
	/^==== Test Assertion Failure ====/ { inassert = 1; next }
	inassert && where == "" && /^  [^ ].*:[0-9]+: / { where = $1; sub(/:$/, "", where); next }
	inassert && err == "" && /^  pid=[0-9]+ tid=[0-9]+ errno=/ {
		err = $0; sub(/.*errno=/, "", err); sub(/ - /, " ", err); next }
	/addr2line|^ *[0-9]+\t|^[[:space:]]*$/ { next }
	{ last = $0 }
	END {
		sub(/^[[:space:]]+/, "", last)
		sub(/^1\.\.0 # /, "", last) # the kselftest plan prefix of a skip
		# where it failed, and errno unless the message already gives it
		if (where != "" && last ~ /errno/) last = last " [" where "]"
		else if (where != "") last = last " [" where ", errno " err "]"
		print substr(last, 1, 220)
	}'
}

pass=0 fail=0 skip=0 total=0
out=/tmp/selftest.out err=/tmp/selftest.err
while read -r name; do
	[ -n "$name" ] || continue
	if [ -n "$only" ] && ! echo " $only " | grep -qF " $name "; then continue; fi
	if echo " $exclude " | grep -qF " $name "; then
		echo "selftest: $name excluded on the kernel command line"
		continue
	fi
	# shellcheck disable=SC2046 # split on purpose: the limit, then the arguments
	set -- $(limits "$name")
	limit=$1
	shift
	total=$((total + 1))
	# stdout apart from stderr: stdout is block-buffered into a file, so merged it would land
	# after the assertion report on stderr
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout "$limit" "$dir/$name" "$@" >$out 2>$err </dev/null
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	# timeout ends the test, not the children it forked (hardware_disable_test's keep making VMs
	# and starve the tests after it): end every process of it
	for p in /proc/[0-9]*; do
		case "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" in # (stderr first: it may be gone)
		"$dir/$name "*) kill -9 "${p#/proc/}" 2>/dev/null ;;
		esac
	done
	case $rc in
	0) verdict=pass pass=$((pass + 1)) why=$(cat $out $err | reason) ;;
	4) verdict=skip skip=$((skip + 1)) why=$(cat $err $out | reason) ;;
	143) verdict=fail fail=$((fail + 1)) why="timeout after ${limit} s: $(cat $out $err | reason)" ;;
	*) verdict=fail fail=$((fail + 1)) why="exit $rc: $(cat $out $err | reason)" ;;
	esac
	echo "selftest: $name $verdict $why"
	if [ "$verbose" = 1 ]; then
		cat $out $err | sed 's/^/    | /'
		echo "    | ($t0 s to $t1 s of dom0's uptime)"
	fi
done <$dir/tests.list
echo "selftests: $pass pass, $fail fail, $skip skip"
[ $total -gt 0 ]
