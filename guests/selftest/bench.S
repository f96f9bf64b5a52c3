/* Exit-cost benchmark, 32-bit: RDTSC around 1000 CPUIDs, 1000 null hypercalls, an empty loop. */
#include "guest.h"
#define N 1000
	.code32
	.globl _start
_start:
	mov $N, %edi
	rdtsc
	mov %eax, %esi
1:	xor %eax, %eax
	cpuid
	dec %edi
	jnz 1b
	rdtsc
	sub %esi, %eax
	out %eax, $PORT_REPORT

	mov $N, %edi
	rdtsc
	mov %eax, %esi
2:	mov $HC_NOP, %eax
	vmcall
	dec %edi
	jnz 2b
	rdtsc
	sub %esi, %eax
	out %eax, $PORT_REPORT

	mov $N, %edi
	rdtsc
	mov %eax, %esi
3:	xor %eax, %eax
	nop
	dec %edi
	jnz 3b
	rdtsc
	sub %esi, %eax
	out %eax, $PORT_REPORT
	hlt
