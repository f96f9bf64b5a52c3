/*
 * Extended-state isolation: load XMM0 from the 16 bytes the test put at 0x2000, halt, and after
 * the test ran another guest in between, report XMM0 as four 32-bit words.
 */
#include "guest.h"
	.code32
	.globl _start
_start:
	mov %cr4, %eax
	or $0x600, %eax			/* OSFXSR, OSXMMEXCPT */
	mov %eax, %cr4
	mov %cr0, %eax
	and $~0xc, %eax			/* EM and TS off */
	or $0x2, %eax			/* MP */
	mov %eax, %cr0
	movdqu 0x2000, %xmm0
	hlt
	movdqu %xmm0, 0x2100
	mov $0x2100, %esi
	mov $4, %ecx
1:	lodsl
	out %eax, $PORT_REPORT
	loop 1b
	hlt
