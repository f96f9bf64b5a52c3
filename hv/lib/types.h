/* Fixed-width types and small helpers shared by all hypervisor code. */
#ifndef HV_TYPES_H
#define HV_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	 (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MAX(a, b)	 ((a) > (b) ? (a) : (b))
#define KiB(x)		 ((uint64_t)(x) << 10)
#define MiB(x)		 ((uint64_t)(x) << 20)
#define GiB(x)		 ((uint64_t)(x) << 30)

#define __noreturn     __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __packed       __attribute__((packed))
#define __aligned(x)   __attribute__((aligned(x)))
#define __unused       __attribute__((unused)) /* a parameter a table's signature gives */

#endif
