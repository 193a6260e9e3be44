/*
 * kick.c STOP_FILE: inside L1, until STOP_FILE exists, run one misaligned
 * locked instruction every ~200 us, then print how many it ran.
 *
 * The outer QEMU (TCG, MTTCG) cannot run a misaligned atomic access in
 * parallel: it ends the TB (cpu_loop_exit_atomic()) and runs the
 * instruction again in an exclusive section (cpu_exec_step_atomic() ->
 * start_exclusive()), which asks every other vCPU thread to leave its
 * execution loop: an exit request with no interrupt behind it, which is
 * what the "intr" check of guest.S needs on the vCPU that runs L2.
 * Back to back, without the pause, they left the L2 guest no PIT
 * interrupt at all (one run).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static unsigned char buf[64] __attribute__((aligned(64)));
    unsigned long n = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: kick STOP_FILE\n");
        return 2;
    }
    while (access(argv[1], F_OK) != 0) {
        /* 4 bytes at offset 2: misaligned, but within one cache line */
        asm volatile("lock incl %0" : "+m"(*(unsigned *)(buf + 2)));
        n++;
        usleep(200);
    }
    printf("kick: %lu misaligned locked instructions\n", n);
    return 0;
}
