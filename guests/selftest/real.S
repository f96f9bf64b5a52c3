/* Real-mode guest at 0x1000: CPUID, port I/O of every size, REP OUTSB, hypercalls, HLT, MMIO. */
#include "guest.h"
	.code16
	.globl _start
_start:
	mov $0x40000000, %eax		/* hypervisor leaf: signature in EBX */
	cpuid
	mov %ebx, %eax
	out %eax, $PORT_REPORT
	mov $0x11, %al
	out %al, $PORT_BYTE
	in $PORT_INPUT, %al		/* the test answers 0x5a */
	inc %al
	out %al, $PORT_BYTE
	mov $0x1234, %ax
	mov $PORT_REPORT, %dx
	out %ax, %dx
	mov $msg, %si
	mov $3, %cx
	mov $PORT_STRING, %dx
	cld
	rep outsb
	mov $HC_NOP, %eax
	vmcall
	out %eax, $PORT_REPORT
	mov $0xdead, %eax		/* no such hypercall */
	vmcall
	out %eax, $PORT_REPORT
	mov $HC_ABI_VERSION, %eax
	vmcall
	out %eax, $PORT_REPORT
	mov $HC_VM_CREATE, %eax		/* a control hypercall: dom0's kernel only */
	vmcall
	out %eax, $PORT_REPORT
	hlt
	mov $0x77, %al
	out %al, $PORT_BYTE
	mov $0x2000, %ax		/* beyond the 64 KiB of RAM this VM has */
	mov %ax, %ds
	mov (0x10), %al
	hlt
msg:	.ascii "abc"
