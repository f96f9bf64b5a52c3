/* Error numbers, with Linux's values (hypercalls return them negated, as KVM ioctls do). */
#ifndef HV_ERRNO_H
#define HV_ERRNO_H

#define EPERM  1
#define ENOENT 2
#define ENXIO  6
#define E2BIG  7
#define EBADF  9
#define ENOMEM 12
#define EFAULT 14
#define EBUSY  16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ENOSYS 38

#endif
