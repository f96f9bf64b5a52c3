#!/bin/sh
# How dom0's kernel found the local APIC: Linux says when the firmware left it in x2APIC mode.
dmesg | grep -i "x2apic" | sed "s/^\\[[ 0-9.]*\\] *//; s/^/apic: /"
dmesg | grep -q "x2apic: enabled by BIOS, switching to x2apic ops"
