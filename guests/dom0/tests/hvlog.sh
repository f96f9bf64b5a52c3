#!/bin/sh
# The hypervisor's log ring is readable from dom0 (its first lines are shown: on a machine where
# the hypervisor found no serial port, this is where its log is).
hvlog > /tmp/hvlog.txt || exit 1
lines=$(wc -l < /tmp/hvlog.txt)
echo "hvlog: $lines lines"
grep -m 3 "^hv: \|^boot: loader" /tmp/hvlog.txt | sed 's/^/hvlog: /'
grep -q "hv: micro-hypervisor starting" /tmp/hvlog.txt &&
	grep -q "dom0: starting on" /tmp/hvlog.txt
