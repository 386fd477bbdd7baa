#!/usr/bin/env python3
"""Swaps two paths atomically, over and over, for a hostile test of CheckDb.

  path_swapper.py SECONDS A B [TOUCH...]

Exchanges A and B with renameat2(RENAME_EXCHANGE) in a loop for SECONDS
(a folder and a symlink, or a file and a FIFO), touching each TOUCH path
(ignoring failures) every round so the daemon cannot answer from a reused
result. Prints the number of exchanges and exits 0.
"""
import ctypes
import os
import sys
import time

AT_FDCWD = -100
RENAME_EXCHANGE = 2


def main():
    seconds, a, b, touch = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = libc.renameat2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    a_bytes, b_bytes = os.fsencode(a), os.fsencode(b)
    swaps = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if renameat2(AT_FDCWD, a_bytes, AT_FDCWD, b_bytes, RENAME_EXCHANGE) != 0:
            err = ctypes.get_errno()
            sys.exit(f"renameat2: {os.strerror(err)}")
        swaps += 1
        for path in touch:
            try:
                os.utime(path, follow_symlinks=False)
            except OSError:
                pass
    print(swaps)


if __name__ == "__main__":
    main()
