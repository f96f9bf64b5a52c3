/*
 * cpucheck: what dom0's CPU looks like from user space. The hypervisor leaf names the project,
 * the VMX bit stays visible (KVM userspace checks it), VMXON faults as on a CPU with VMX off,
 * XSAVE offers only the components the hypervisor manages, and processes keep their vector
 * registers across context switches.
 */
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int vmxon_signal(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		static uint64_t region;
		__asm__ volatile("vmxon %0" : : "m"(region));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* VMCALL from user space: the hypervisor answers -EPERM (1) for every call at CPL 3. */
static long user_vmcall(void)
{
	long ret;

	__asm__ volatile("vmcall" : "=a"(ret) : "a"(0L) : "memory");
	return ret;
}

#define ROUNDS 50
#define LD(n)  "vmovdqu " #n "*32(%0), %%ymm" #n "\n"
#define ST(n)  "vmovdqu %%ymm" #n ", " #n "*32(%1)\n"

/* All sixteen YMM registers loaded with random bytes, a busy loop long enough to be switched
 * out, then read back: 1 when any byte changed. */
static int vector_round(void)
{
	static uint8_t in[512] __attribute__((aligned(32))), out[512] __attribute__((aligned(32)));

	for (int i = 0; i < 512; i++)
		in[i] = (uint8_t)rand();
	__asm__ volatile(
		LD(0) LD(1) LD(2) LD(3) LD(4) LD(5) LD(6) LD(7) LD(8) LD(9) LD(10) LD(11) LD(12)
			LD(13) LD(14) LD(15) "mov $100000, %%ecx\n1: dec %%ecx\n jnz 1b\n" ST(0)
				ST(1) ST(2) ST(3) ST(4) ST(5) ST(6) ST(7) ST(8) ST(9) ST(10) ST(11)
					ST(12) ST(13) ST(14) ST(15)
		:
		: "r"(in), "r"(out)
		: "ecx", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	return memcmp(in, out, sizeof(in)) != 0;
}

/* Three processes at once, so that they are switched in and out: rounds that lost registers. */
static int vectors_lost(void)
{
	pid_t kids[2];
	int lost = 0, status;

	for (int k = 0; k < 2; k++)
		if ((kids[k] = fork()) == 0) {
			int l = 0;
			srand((unsigned)getpid());
			for (int r = 0; r < ROUNDS; r++)
				l += vector_round();
			_exit(l);
		}
	for (int r = 0; r < ROUNDS; r++)
		lost += vector_round();
	for (int k = 0; k < 2; k++) {
		waitpid(kids[k], &status, 0);
		lost += WIFEXITED(status) ? WEXITSTATUS(status) : ROUNDS;
	}
	return lost;
}

int main(void)
{
	unsigned a, b, c, d, fails = 0;
	char sig[13] = {0};

	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4), memcpy(sig + 4, &c, 4), memcpy(sig + 8, &d, 4);
	printf("cpucheck: hypervisor leaf max %#x signature '%s'\n", a, sig);
	fails += strcmp(sig, "uHVuHVuHVuHV") != 0 || a < 0x40000000;
	/* KVM's signature, no PV features: so Linux keeps x2APIC without interrupt remapping */
	__cpuid(0x40000100, a, b, c, d);
	memcpy(sig, &b, 4), memcpy(sig + 4, &c, 4), memcpy(sig + 8, &d, 4);
	__cpuid(0x40000101, b, c, d, d);
	printf("cpucheck: leaf 0x40000100 max %#x signature '%s', features %#x\n", a, sig, b);
	fails += strcmp(sig, "KVMKVMKVM") != 0 || b != 0;
	__cpuid(1, a, b, c, d);
	printf("cpucheck: CPUID.1:ECX VMX %u hypervisor %u\n", (c >> 5) & 1, c >> 31);
	fails += !((c >> 5) & 1) || !(c >> 31);
	__cpuid_count(0xd, 0, a, b, c, d);
	printf("cpucheck: XCR0 may hold %#x:%#x (max area %u bytes)\n", d, a, c);
	fails += d != 0 || (a & ~7u) != 0;
	printf("cpucheck: VMCALL from user space returns %ld\n", user_vmcall());
	fails += user_vmcall() != -1;
	a = (unsigned)vmxon_signal();
	printf("cpucheck: VMXON ends the process with signal %u (SIGILL is %u)\n", a, SIGILL);
	fails += a != SIGILL;
	__cpuid(1, a, b, c, d);
	if ((c & (3u << 27)) == (3u << 27)) { /* OSXSAVE and AVX: YMM is in use */
		a = (unsigned)vectors_lost();
		printf("cpucheck: YMM registers across context switches: %u of %u rounds lost "
		       "them\n",
		       a, 3 * ROUNDS);
		fails += a != 0;
	}
	return fails ? 1 : 0;
}
