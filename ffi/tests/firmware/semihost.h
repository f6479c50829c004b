/* Semihosting output and exit for the firmware test (startup.c). */
#ifndef CB_FW_SEMIHOST_H
#define CB_FW_SEMIHOST_H
#include <stdint.h>
void sh_puts(const char *s);
void sh_put_u64(uint64_t v);
void sh_exit(int code);
#endif
