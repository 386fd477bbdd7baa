// libFuzzer's driver, in every binary linked with -fsanitize=fuzzer
// (compiler-rt's FuzzerInterface.h): it parses libFuzzer's flags from
// argv and runs `callback` on each input until a flag says stop.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
