/* Hostile guests: each entry point misbehaves in one way. Protected mode, flat segments. */
#include "guest.h"
	.code32
	.globl _start
_start:					/* 0x1000: touch memory far beyond this VM's RAM */
	mov 0x10000000, %eax
	hlt
	.org 0x100
triple_fault:				/* 0x1100: no IDT at all, then a fault */
	lidt idt_none
	int3
	hlt
	.org 0x200
endless:				/* 0x1200: spins until the run budget ends it */
	jmp endless
	.org 0x300
hv_memory:				/* 0x1300: write to GPA 0x200000 (the hypervisor's PA) */
	movl $0xdeadbeef, 0x200000
	mov 0x200000, %eax
	out %eax, $PORT_REPORT
	hlt
	.org 0x400
vmx_insn:				/* 0x1400: VMLAUNCH with no IDT: #UD then triple fault */
	lidt idt_none
	vmlaunch
	hlt
idt_none:
	.short 0
	.long 0
