#!/bin/sh
# Long lines in a burst, while the hypervisor logs too (dom0sample=): the system test checks that
# no line of either is broken by the other.
i=0
while [ $i -lt 400 ]; do
	echo "console-check $i abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789"
	i=$((i + 1))
done
