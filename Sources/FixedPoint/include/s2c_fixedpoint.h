/* s2c_fixedpoint.h: public C API of the integer kernels (placeholder until the kernels land). */
#ifndef S2C_FIXEDPOINT_H
#define S2C_FIXEDPOINT_H
#include <stdint.h>
/** Version of the kernel library. */
int s2c_fixedpoint_version(void);
#endif
