#!/bin/sh
# Every physical CPU is a dom0 CPU.
want=$(sed -n 's/.*dom0cpus=\([0-9]*\).*/\1/p' /proc/cmdline)
got=$(nproc)
echo "smp: nproc $got (want $want)"
[ "$got" = "$want" ]
