/*
 * cpucheck: what dom0's CPU looks like from user space. The hypervisor leaf names the project,
 * the VMX bit stays visible (KVM userspace checks it), VMXON faults as on a CPU with VMX off,
 * and XSAVE offers only the components the hypervisor manages.
 */
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
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

int main(void)
{
	unsigned a, b, c, d, fails = 0;
	char sig[13] = {0};

	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4), memcpy(sig + 4, &c, 4), memcpy(sig + 8, &d, 4);
	printf("cpucheck: hypervisor leaf max %#x signature '%s'\n", a, sig);
	fails += strcmp(sig, "uHVuHVuHVuHV") != 0 || a < 0x40000000;
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
	return fails ? 1 : 0;
}
