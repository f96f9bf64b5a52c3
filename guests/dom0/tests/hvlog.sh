#!/bin/sh
# The hypervisor's log ring is readable from dom0.
hvlog > /tmp/hvlog.txt || exit 1
lines=$(wc -l < /tmp/hvlog.txt)
echo "hvlog: $lines lines"
grep -q "hv: micro-hypervisor starting" /tmp/hvlog.txt &&
	grep -q "dom0: starting on" /tmp/hvlog.txt
