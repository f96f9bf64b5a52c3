/* The control domain. */
#ifndef HV_DOM0_H
#define HV_DOM0_H

#include "mb2.h"

/* Loads and runs dom0 from the boot modules on every CPU; does not return. */
__noreturn void dom0_boot(struct boot_info *bi);

#endif
