/*
 * A tiny 32-bit L2 guest for the outer-QEMU fixes of patches/tcg-svm.
 * It is a 64 KiB BIOS image (-bios) for a plain KVM guest of QEMU in L1,
 * where L1's KVM runs on the outer QEMU's TCG emulation of nested SVM.
 * It prints "XSL-TCG: ..." lines on COM1 and ends through isa-debug-exit.
 *
 * Check "pae" (patch 2): PAE paging outside long mode, then a write to
 * CR4.PGE. KVM intercepts CR4 writes and, because PGE is one of the bits
 * that make it reload the PDPTEs, calls load_pdptrs(), which refuses a
 * present PDPTE with a reserved bit (8:5, 2:1) and injects #GP. The outer
 * QEMU's page walk (mmu_translate()) used to set bit 5 in the PDPTE.
 * A #GP here is reported and the guest goes on with the next check.
 *
 * Check "user" (patch 1): LTR, then an IN from QEMU's vmport (port 0x5658),
 * whose handler calls cpu_synchronize_state(): QEMU reads the registers
 * with KVM_GET_SREGS, where KVM's svm_get_segment() sets the busy bit of
 * TR, and writes them back with KVM_SET_SREGS, so the VMCB's TR now has
 * the busy type, as it has for any guest whose registers the VMM touched.
 * Then at CPL 3 (IOPL 0) an OUT to COM1, which the TSS's I/O bitmap
 * allows (helper_check_io() used to #GP unless TR was an available TSS),
 * and INT 0x80 back to CPL 0 (get_ss_esp_from_tss() used to abort the
 * whole outer QEMU, "invalid tss type").
 *
 * Check "intr" (patch 3), first: the PIT ticks at ~1 kHz through the PIC
 * (both KVM's, in L1), so KVM injects each tick through the VMCB's
 * EVENTINJ on its next VMRUN. The handler, an interrupt gate (IF clear),
 * spins for a while before its EOI. The outer QEMU's helper_vmrun() used
 * to leave the vector in exception_index; when the vCPU thread was asked
 * to leave its loop without an interrupt before anything overwrote it,
 * the CPU loop delivered the vector a second time, inside the handler.
 * run-l2.sh makes such requests: kick.c, on L1's other CPU, runs
 * misaligned locked instructions, which the outer QEMU runs in exclusive
 * sections that kick every other vCPU thread out of its loop. The
 * handler counts its entries and those made while it ran; there must be
 * none of the latter, and 2000 of the former (fewer: the check fails
 * too, having seen too little).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define COM1        0x3f8
#define DEBUG_EXIT  0xf4        /* isa-debug-exit: QEMU exits (v << 1) | 1 */
#define VMPORT      0x5658
#define VMPORT_MAGIC 0x564d5868

#define GDT         0x1000      /* RAM copy: LTR marks the TSS busy */
#define IDT         0x2000
#define PDPT        0x3000
#define PD          0x4000
#define TSS         0x5000
#define TSS_IOMAP   104         /* I/O bitmap right after the TSS */
#define IOMAP_BYTES (COM1 / 8 + 2)
#define KSTACK      0x7000
#define USTACK      0x9000
#define SCRATCH     0x8000

#define KCODE       0x08
#define KDATA       0x10
#define UCODE       (0x18 | 3)
#define UDATA       (0x20 | 3)
#define TSS_SEL     0x28

#define RECOVER     0x8100      /* the exception handler's "go on here" */

#define PIC1        0x20
#define PIC2        0xa0
#define PIT_CH0     0x40
#define PIT_MODE    0x43
#define PIT_DIVISOR 1193        /* 1193182 Hz / 1193: ~1 kHz */
#define TIMER_VEC   0x20
#define TICKS       2000        /* handler entries the check waits for */
#define WARMUP      16          /* entries before the kicks start */
#define WARMUP_WAIT 4           /* WARMUP within 4 << 32 TSC cycles */
#define TICKS_WAIT  24          /* TICKS within 24 << 32 (2.6 GHz: 40 s) */
#define TICK_SPIN   0x20000     /* loop iterations in the handler, IF clear */
#define DEPTH       0x8200      /* handler entries not yet returned */
#define ENTRIES     0x8204      /* handler entries, nested ones too */
#define NESTED      0x8208      /* entries while the handler was running */

    .section .text
    .code16
start16:
    cli
    /*
     * At reset CS's base is 0xffff0000, which aliases this ROM, and
     * start16 is its first byte.
     */
    lgdtl   %cs:(rom_gdt_desc - start16)
    mov     %cr0, %eax
    or      $1, %eax                /* PE */
    mov     %eax, %cr0
    ljmpl   $KCODE, $start32

    .code32
start32:
    mov     $KDATA, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     $KSTACK, %esp
    cld

    /* The GDT in RAM */
    mov     $rom_gdt, %esi
    mov     $GDT, %edi
    mov     $(rom_gdt_end - rom_gdt), %ecx
    rep movsb
    lgdtl   ram_gdt_desc

    /* IDT: vectors 0-31 to their stubs, 0x80 (DPL 3) to the syscall */
    mov     $IDT, %edi
    xor     %eax, %eax
    mov     $(256 * 2), %ecx
    rep stosl
    mov     $IDT, %edi
    mov     $exc_stubs, %esi
    mov     $32, %ecx
1:  mov     %esi, %eax
    mov     $0x8e00, %edx           /* present, DPL 0, 32-bit interrupt gate */
    call    set_gate
    add     $16, %esi
    add     $8, %edi
    loop    1b
    mov     $(IDT + 0x80 * 8), %edi
    mov     $syscall, %eax
    mov     $0xee00, %edx           /* present, DPL 3 */
    call    set_gate
    lidtl   idt_desc

    mov     $msg_start, %esi
    call    puts

/* ---- check "intr" ----------------------------------------------------- */
    /*
     * The local APIC off (IA32_APIC_BASE bit 11), so that the PIC's
     * interrupts reach the CPU without LINT0 set up (KVM's
     * kvm_apic_accept_pic_intr()).
     */
    mov     $0x1b, %ecx
    rdmsr
    and     $~0x800, %eax
    wrmsr
    movl    $0, DEPTH
    movl    $0, ENTRIES
    movl    $0, NESTED
    mov     $(IDT + TIMER_VEC * 8), %edi
    mov     $timer_irq, %eax
    mov     $0x8e00, %edx           /* interrupt gate: IF clear inside */
    call    set_gate
    /* PIC: vectors 0x20-0x27, only IRQ 0 unmasked */
    mov     $0x11, %al              /* ICW1: edge, cascade, ICW4 follows */
    out     %al, $PIC1
    mov     $TIMER_VEC, %al         /* ICW2: vector base */
    out     %al, $(PIC1 + 1)
    mov     $0x04, %al              /* ICW3: slave on IRQ 2 */
    out     %al, $(PIC1 + 1)
    mov     $0x01, %al              /* ICW4: 8086 mode, normal EOI */
    out     %al, $(PIC1 + 1)
    mov     $0xfe, %al
    out     %al, $(PIC1 + 1)
    mov     $0xff, %al
    out     %al, $(PIC2 + 1)
    /* PIT channel 0: rate generator */
    mov     $0x34, %al
    out     %al, $PIT_MODE
    mov     $(PIT_DIVISOR & 0xff), %al
    out     %al, $PIT_CH0
    mov     $(PIT_DIVISOR >> 8), %al
    out     %al, $PIT_CH0
    sti
    /*
     * First WARMUP entries without kicks, then "ticking" on COM1, which
     * starts kick.c (run-l2.sh). In about one run in three, with or
     * without kicks, under either outer QEMU, not one PIT interrupt
     * comes: the PIC's IRR has IRQ 0, its ISR is empty, IF is set, for
     * seconds, and VM exits with IF set (OUTs, tried) do not let it
     * in either: L1's KVM never injects it. Not diagnosed further. Such
     * a run checks nothing: it ends here with its own exit status, after
     * printing IRR and ISR, and run-l2.sh runs the guest again.
     */
    mov     $WARMUP, %ebx
    mov     $WARMUP_WAIT, %ecx
    call    wait_entries
    jnc     3f
    cli
    mov     $msg_intr_notick, %esi
    call    puts
    mov     $0x0a, %al              /* OCW3: read IRR */
    out     %al, $PIC1
    in      $PIC1, %al
    movzbl  %al, %eax
    call    puthex
    mov     $msg_intr_isr, %esi
    call    puts
    mov     $0x0b, %al              /* OCW3: read ISR */
    out     %al, $PIC1
    in      $PIC1, %al
    movzbl  %al, %eax
    call    puthex
    call    newline
    mov     $0x11, %al              /* exit status 35: run again */
    out     %al, $DEBUG_EXIT
    jmp     halt
3:  mov     $msg_intr_ticking, %esi
    call    puts
    mov     $TICKS, %ebx
    mov     $TICKS_WAIT, %ecx
    call    wait_entries
    cli
    mov     $0xff, %al
    out     %al, $(PIC1 + 1)
    mov     $msg_intr, %esi
    call    puts
    mov     ENTRIES, %eax
    call    puthex
    mov     $msg_intr_nested, %esi
    call    puts
    mov     NESTED, %eax
    call    puthex
    call    newline
    cmpl    $0, NESTED              /* a second delivery fails, however few */
    je      1f
    mov     $msg_intr_fail, %esi
    call    puts
    jmp     after_intr
1:  cmpl    $TICKS, ENTRIES
    jae     1f
    mov     $msg_intr_few, %esi
    call    puts
    jmp     after_intr
1:  mov     $msg_intr_ok, %esi
    call    puts
after_intr:

/* ---- check "pae" ------------------------------------------------------ */
    mov     $PDPT, %edi
    xor     %eax, %eax
    mov     $((0x1000 + 0x1000) / 4), %ecx  /* PDPT page and PD */
    rep stosl
    movl    $(PD | 1), PDPT         /* present; no other bit may be set */
    movl    $0x87, PD               /* 0-2 MiB: 2 MiB page, P, RW, US */
    movl    $after_pae, RECOVER
    mov     %cr4, %eax
    or      $0x20, %eax             /* PAE */
    mov     %eax, %cr4
    mov     $PDPT, %eax
    mov     %eax, %cr3
    mov     %cr0, %eax
    or      $0x80000000, %eax       /* PG */
    mov     %eax, %cr0
    jmp     1f
1:  mov     SCRATCH, %eax           /* walk the tables for data too */
    mov     $msg_pdpte, %esi
    call    puts
    mov     PDPT, %eax
    call    puthex
    call    newline
    /* CR4.PGE on and off: KVM's kvm_set_cr4() reloads the PDPTEs */
    mov     %cr4, %eax
    or      $0x80, %eax
    mov     %eax, %cr4
    and     $~0x80, %eax
    mov     %eax, %cr4
    mov     $msg_pae_ok, %esi
    call    puts
after_pae:
    mov     $KSTACK, %esp
    movl    $0, RECOVER
    mov     %cr0, %eax
    and     $~0x80000000, %eax
    mov     %eax, %cr0
    jmp     1f
1:  mov     %cr4, %eax
    and     $~0xa0, %eax
    mov     %eax, %cr4

/* ---- check "user" ----------------------------------------------------- */
    /* TSS: ring 0 stack, I/O bitmap allowing COM1 only */
    mov     $TSS, %edi
    xor     %eax, %eax
    mov     $(TSS_IOMAP / 4), %ecx
    rep stosl
    movl    $KSTACK, TSS + 4        /* esp0 */
    movl    $KDATA, TSS + 8         /* ss0 */
    movw    $TSS_IOMAP, TSS + 102
    mov     $(TSS + TSS_IOMAP), %edi
    mov     $0xff, %al
    mov     $(IOMAP_BYTES + 1), %ecx
    rep stosb
    movb    $0, TSS + TSS_IOMAP + COM1 / 8
    mov     $TSS_SEL, %ax
    ltr     %ax

    /* Let the VMM read and write back the registers (vmport) */
    mov     $VMPORT_MAGIC, %eax
    mov     $10, %ecx               /* GETVERSION */
    mov     $VMPORT, %dx
    in      %dx, %eax
    cmp     $VMPORT_MAGIC, %ebx
    je      1f
    mov     $msg_no_vmport, %esi
    jmp     fail
1:  mov     $msg_user, %esi
    call    puts

    /* To CPL 3, IOPL 0, interrupts off */
    pushl   $UDATA
    pushl   $USTACK
    pushl   $0x2
    pushl   $UCODE
    pushl   $user
    iret

user:
    mov     $UDATA, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     $msg_from_user, %esi
1:  lodsb
    test    %al, %al
    jz      2f
    mov     $COM1, %dx
    out     %al, %dx                /* allowed by the I/O bitmap */
    jmp     1b
2:  int     $0x80
    jmp     .

syscall:
    mov     $KDATA, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     4(%esp), %eax           /* the CS the interrupt came from */
    and     $3, %eax
    cmp     $3, %eax
    je      1f
    mov     $msg_not_user, %esi
    jmp     fail
1:  mov     $msg_user_ok, %esi
    call    puts
    mov     $msg_done, %esi
    call    puts
    mov     $0x10, %al
    out     %al, $DEBUG_EXIT
    jmp     halt

/*
 * Wait, IF set, until ENTRIES reaches %ebx, or give up after %ecx << 32
 * TSC cycles: carry clear if it did, set if it gave up. The limit is
 * time, not turns of the loop: the ticks come at the PIT's rate in time,
 * whatever the speed at which the outer QEMU runs this loop, which falls
 * and rises with the load on the host (a limit of 2^30 turns once saw
 * only 1519 of the 2000 entries, in a CI run of 2026-12-03).
 */
wait_entries:
    push    %eax
    push    %edx
    push    %esi
    push    %edi
    rdtsc
    mov     %eax, %esi              /* %edi:%esi = the deadline */
    lea     (%edx, %ecx), %edi
1:  cmp     %ebx, ENTRIES
    jae     3f                      /* carry clear */
    rdtsc
    cmp     %edi, %edx
    jb      1b
    ja      2f
    cmp     %esi, %eax
    jb      1b
2:  stc
3:  pop     %edi
    pop     %esi
    pop     %edx
    pop     %eax
    ret

/* The PIT's interrupt: spin with IF clear, then EOI */
timer_irq:
    push    %eax
    push    %ecx
    push    %ds
    mov     $KDATA, %ax
    mov     %ax, %ds
    incl    DEPTH
    cmpl    $1, DEPTH
    je      1f
    incl    NESTED
1:  mov     $TICK_SPIN, %ecx
2:  loop    2b                      /* no PAUSE: KVM may intercept it */
    incl    ENTRIES
    decl    DEPTH
    mov     $0x20, %al              /* EOI */
    out     %al, $PIC1
    pop     %ds
    pop     %ecx
    pop     %eax
    iret

/* ---- helpers ---------------------------------------------------------- */

/* set_gate: gate at EDI for handler EAX with attributes EDX */
set_gate:
    push    %eax
    and     $0xffff, %eax
    or      $(KCODE << 16), %eax
    mov     %eax, (%edi)
    pop     %eax
    and     $0xffff0000, %eax
    or      %edx, %eax
    mov     %eax, 4(%edi)
    ret

puts:
    push    %eax
    push    %edx
1:  lodsb
    test    %al, %al
    jz      2f
    mov     $COM1, %dx
    out     %al, %dx
    jmp     1b
2:  pop     %edx
    pop     %eax
    ret

puthex:
    push    %ecx
    push    %edx
    push    %ebx
    mov     %eax, %ebx
    mov     $8, %ecx
1:  rol     $4, %ebx
    mov     %ebx, %eax
    and     $0xf, %al
    add     $'0', %al
    cmp     $'9', %al
    jbe     2f
    add     $('a' - '9' - 1), %al
2:  mov     $COM1, %dx
    out     %al, %dx
    loop    1b
    pop     %ebx
    pop     %edx
    pop     %ecx
    ret

newline:
    push    %eax
    push    %edx
    mov     $'\n', %al
    mov     $COM1, %dx
    out     %al, %dx
    pop     %edx
    pop     %eax
    ret

/* fail: print "FAIL" and the message at ESI, end the guest */
fail:
    push    %esi
    mov     $msg_fail, %esi
    call    puts
    pop     %esi
    call    puts
    mov     $0x01, %al
    out     %al, $DEBUG_EXIT
halt:
    cli
    hlt
    jmp     halt

/*
 * Exception stubs, 16 bytes apart: push the vector, report it with the
 * words on top of the interrupted frame; go on at RECOVER if it is set.
 */
    .balign 16
exc_stubs:
    .irp    v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    pushl   $\v
    jmp     exc_common
    .endr

exc_common:
    mov     $KDATA, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     $msg_exc, %esi
    call    puts
    pop     %eax                    /* vector */
    call    puthex
    mov     $msg_exc_word, %esi
    call    puts
    mov     (%esp), %eax            /* error code or EIP */
    call    puthex
    mov     $' ', %al
    mov     $COM1, %dx
    out     %al, %dx
    mov     4(%esp), %eax           /* EIP or CS */
    call    puthex
    call    newline
    mov     RECOVER, %eax
    test    %eax, %eax
    jz      1f
    jmp     *%eax
1:  mov     $msg_exc_end, %esi
    jmp     fail

/* ---- data ------------------------------------------------------------- */
    .balign 8
rom_gdt:
    .quad   0
    .quad   0x00cf9b000000ffff      /* 0x08: ring 0 code */
    .quad   0x00cf93000000ffff      /* 0x10: ring 0 data */
    .quad   0x00cffb000000ffff      /* 0x18: ring 3 code */
    .quad   0x00cff3000000ffff      /* 0x20: ring 3 data */
    /* 0x28: available 32-bit TSS at TSS, limit up to the bitmap's end */
    .word   TSS_IOMAP + IOMAP_BYTES
    .word   TSS & 0xffff
    .byte   (TSS >> 16) & 0xff
    .byte   0x89
    .byte   0
    .byte   (TSS >> 24) & 0xff
rom_gdt_end:
rom_gdt_desc:
    .word   rom_gdt_end - rom_gdt - 1
    .long   rom_gdt
ram_gdt_desc:
    .word   rom_gdt_end - rom_gdt - 1
    .long   GDT
idt_desc:
    .word   256 * 8 - 1
    .long   IDT

msg_start:      .asciz "XSL-TCG: start\n"
msg_intr_ticking: .asciz "XSL-TCG: intr: ticking\n"
msg_intr_notick: .asciz "XSL-TCG: intr: no timer interrupt came; PIC IRR "
msg_intr_isr:   .asciz ", ISR "
msg_intr:       .asciz "XSL-TCG: intr: handler entries: "
msg_intr_nested: .asciz ", of them inside the handler: "
msg_intr_few:   .asciz "XSL-TCG: FAIL intr: too few timer interrupts (no second delivery seen)\n"
msg_intr_fail:  .asciz "XSL-TCG: FAIL intr: the handler was entered again while it ran, IF clear\n"
msg_intr_ok:    .asciz "XSL-TCG: ok intr: every injected interrupt delivered once\n"
msg_pdpte:      .asciz "XSL-TCG: pae: PDPTE 0 after the walk: "
msg_pae_ok:     .asciz "XSL-TCG: ok pae: CR4.PGE written with PAE paging on, no #GP\n"
msg_no_vmport:  .asciz "user: no vmport (is this QEMU's pc machine?)\n"
msg_user:       .asciz "XSL-TCG: user: TR loaded, registers synced by the VMM\n"
msg_from_user:  .asciz "XSL-TCG: user: OUT at CPL 3 through the I/O bitmap\n"
msg_not_user:   .asciz "user: int 0x80 came from CPL 0\n"
msg_user_ok:    .asciz "XSL-TCG: ok user: OUT and INT 0x80 at CPL 3 with the TR the VMM wrote back\n"
msg_done:       .asciz "XSL-TCG: done\n"
msg_fail:       .asciz "XSL-TCG: FAIL "
msg_exc:        .asciz "XSL-TCG: FAIL exception "
msg_exc_word:   .asciz " at "
msg_exc_end:    .asciz "unexpected exception\n"

    .section .reset, "ax"
    .code16
reset:
    jmp     start16
