/* MMIO completed by the caller: a write, then a read whose value the guest reports. */
#include "guest.h"
	.code16
	.globl _start
_start:
	mov $0x2000, %ax		/* GPA 0x20000 and up: no RAM */
	mov %ax, %ds
	movw $0x1234, (0x10)
	mov (0x20), %bx
	mov %bx, %ax
	out %ax, $PORT_REPORT
	mov $0x2000, %si
	mov $0x5555, %cx
	mov %cx, %ax
	out %ax, $PORT_REPORT
	hlt
