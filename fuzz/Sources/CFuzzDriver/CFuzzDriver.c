// Header-only: LLVMFuzzerRunDriver is defined in libclang_rt.fuzzer, linked by -sanitize=fuzzer.
#include "CFuzzDriver.h"
