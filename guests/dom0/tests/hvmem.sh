#!/bin/sh
# The hypervisor's memory cannot be seen from dom0: every page of its image (hv.image=) reads
# as the scratch page, never as the image (whose first bytes are the multiboot2 magic).
# (the exported log pages, hv.log=, are the one window dom0 is given: they are skipped)
range=$(sed -n 's/.*hv\.image=\([^ ]*\).*/\1/p' /proc/cmdline)
log=$(($(sed -n 's/.*hv\.log=\([^ ]*\).*/\1/p' /proc/cmdline)))
start=$((${range%-*}))
end=$((${range#*-}))
[ "$log" -gt "$start" ] && [ "$log" -lt "$end" ] && end=$log
pages=$(((end - start) / 4096))
echo "hvmem: reading $pages pages at $start through /dev/mem"
dd if=/dev/mem of=/tmp/hv.bin bs=4096 skip=$((start / 4096)) count=$pages 2>/dev/null || {
	echo "hvmem: /dev/mem read failed"; exit 1; }
size=$(wc -c < /tmp/hv.bin)
first=$(od -A n -t x4 -N 16 /tmp/hv.bin | tr -s ' ')
nonzero=$(od -A n -t x1 -v /tmp/hv.bin | tr -s ' ' '\n' | grep -cv '^00$\|^$')
echo "hvmem: read $size bytes; first words:$first; non-zero bytes: $nonzero"
[ "$size" -eq $((pages * 4096)) ] && [ "$nonzero" -eq 0 ]
