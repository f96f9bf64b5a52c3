#!/usr/bin/env bash
# Prints a headless Bochs configuration (Debian's Bochs 2.7, VMX models) for one boot.
# Usage: scripts/bochsrc.sh ISO MODEL CPUS MEGS "SERIAL SETTINGS" LOGFILE [com1|com2]
# The serial settings go to COM1, or with com2 to COM2 and the machine has no COM1.
# Every shutdown path ends Bochs with status 1: judge a run by its serial output.
iso=$1 model=$2 cpus=$3 megs=$4 serial=$5 log=$6
com1="enabled=1, $serial" com2="enabled=0"
[ "${7:-com1}" = com2 ] && com1="enabled=0" com2="enabled=1, $serial"
cat <<RC
megs: $megs
cpu: model=$model, count=$cpus, ips=50000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=cdrom, path=$iso, status=inserted
boot: cdrom
display_library: rfb, options="timeout=0"
com1: $com1
com2: $com2
log: $log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
clock: sync=none, time0=local
mouse: enabled=0
speaker: enabled=0
sound: driver=dummy
port_e9_hack: enabled=1
RC
