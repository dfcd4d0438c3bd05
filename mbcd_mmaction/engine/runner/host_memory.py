"""glibc ``malloc`` settings that keep freed host memory for reuse.

Training on the CPU allocates and frees tensors the size of the trainable
parameters several times per iteration (gradients, GMP's per-task
gradients, MBCD's look-ahead weights, the optimiser's temporaries). With
glibc's defaults, blocks above the adaptive ``mmap`` threshold are returned
to the kernel when freed and the heap is trimmed, so the next iteration
faults every page in again (the kernel zeroes each one). On this project's
2-core machine that cost about 8 % of every method's iteration with one
model in the process, and swings of up to 2x in a process holding several
(``tools/benchmark.py``; README "Performance"). Keeping the memory mapped
removes it; the resident set then stays at the iteration's peak, which
training reaches every iteration anyway.
"""
import ctypes
import ctypes.util
from typing import Optional

# mallopt(3) parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Blocks up to this size come from the heap (glibc's largest allowed
#: threshold on 64-bit, 32 MiB): every parameter-sized tensor of the
#: paper's encoders is smaller.
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Never give the top of the heap back (the largest ``int`` mallopt takes).
TRIM_THRESHOLD = 2**31 - 1


def _glibc() -> Optional[ctypes.CDLL]:
    name = ctypes.util.find_library('c')
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, 'mallopt') else None


def retain_freed_host_memory() -> bool:
    """Sets glibc's ``mmap`` threshold to 32 MiB and turns heap trimming
    off for this process (and the dataloader workers it forks later).

    Returns:
        bool: True if both settings were applied; False where the C
        library is not glibc (nothing is changed then).
    """
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
