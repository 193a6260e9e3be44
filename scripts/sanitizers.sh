# Sourced by the scripts that run the patched QEMU or its tests (on the
# host or inside L1, which does not inherit the environment): every
# AddressSanitizer, LeakSanitizer and UBSan report is fatal, aborts with a
# stack trace, and so fails the test that triggered it.
export ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
# What a sanitizer report starts with, for the verdicts.
export SANITIZER_REPORT='runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer'
