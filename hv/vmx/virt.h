/* Hardware virtualization, as the architecture-independent core sees it (implemented in hv/vmx). */
#ifndef HV_VIRT_H
#define HV_VIRT_H

/* Boot CPU: checks that this CPU can run the hypervisor. Returns 0, or -1 after naming what is
 * missing. */
int virt_probe(void);
/* Every CPU: turns virtualization on (VMX root operation). */
void virt_cpu_on(void *unused);

#endif
