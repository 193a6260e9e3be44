# Sourced by the scripts that run the patched QEMU or its tests (on the
# host or inside L1, which does not inherit the environment): every
# AddressSanitizer, LeakSanitizer and UBSan report is fatal, aborts with a
# stack trace, and so fails the test that triggered it.
# XSL_DETECT_LEAKS=0 (the runs on pristine QEMU, which leaks at every
# reset of a Xen guest) leaves LeakSanitizer out, nothing else.
export ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=${XSL_DETECT_LEAKS:-1}
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
# What a sanitizer report starts with, for the verdicts.
export SANITIZER_REPORT='runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer'
