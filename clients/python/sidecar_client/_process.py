"""A process as a lease's holder: its pid and start time (Linux)."""
from __future__ import annotations


def process_start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat (clock ticks after boot): with the pid, it
    names one process, never a later one that got the pid again. Raises
    ProcessLookupError when no such process runs."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            line = stat.read()
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None
    # The command name (field 2) is in parentheses and may hold either.
    fields = line[line.rindex(b")") + 1 :].split()
    return int(fields[19])
