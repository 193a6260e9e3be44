/*
 * kick.c: inside L1, run misaligned locked instructions, with a ~200 us
 * sleep after each, until SIGTERM; then print how many it ran.
 *
 * The outer QEMU (TCG with MTTCG, its default for an x86 guest on an x86
 * host) cannot run a misaligned atomic access in parallel: it ends the
 * TB (atomic_mmu_lookup() -> cpu_loop_exit_atomic()) and runs the
 * instruction again in an exclusive section (cpu_exec_step_atomic() ->
 * start_exclusive()), which kicks every other running vCPU thread out of
 * its execution loop: an exit request with no interrupt behind it, which
 * is what the "intr" check of guest.S needs on the vCPU that runs L2.
 * The loop does no I/O, so it sends L1's other CPU no interrupt (which
 * would make it leave L2 and end the window the check looks at).
 * Back to back, without the sleep, the instructions left the L2 guest no
 * PIT interrupt at all (one run).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(void)
{
    static unsigned char buf[64] __attribute__((aligned(64)));
    struct sigaction sa = { .sa_handler = on_term };
    unsigned long n = 0;

    sigaction(SIGTERM, &sa, NULL);
    while (!stop) {
        /* 4 bytes at offset 2: misaligned, but within one cache line */
        asm volatile("lock incl %0" : "+m"(*(unsigned *)(buf + 2)));
        n++;
        usleep(200);
    }
    printf("kick: %lu misaligned locked instructions\n", n);
    return 0;
}
