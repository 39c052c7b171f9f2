#include "s2c_fixedpoint.h"
int s2c_fixedpoint_version(void) { return 1; }
