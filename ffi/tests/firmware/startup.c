/* Minimal Cortex-M4F start-up for the firmware test: vector table, .data/.bss, FPU on,
 * semihosting output and exit. No libc. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

static int sh_call(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_puts(const char *s) { sh_call(0x04 /* SYS_WRITE0 */, s); }

void sh_put_u64(uint64_t v) {
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sh_puts(&buf[i]);
}

void sh_exit(int code) {
    /* SYS_EXIT_EXTENDED: QEMU exits with `code`. */
    uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
    sh_call(0x20, block);
    for (;;) {
    }
}

void reset_handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; dst++) *dst = 0;
    /* CPACR: full access to CP10/CP11 (the FPU), since the code is built for hard float. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" ::: "memory");
    sh_exit(main());
}

static void fault(void) {
    sh_puts("firmware: hard fault\n");
    sh_exit(70);
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_estack, (const void *)reset_handler, (const void *)fault, (const void *)fault,
    (const void *)fault, (const void *)fault, (const void *)fault,
};
