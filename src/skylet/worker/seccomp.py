"""A seccomp filter denying, with ``EPERM``, the system calls no Lambda function needs: other
processes' memory (``ptrace``, ``process_vm_readv``/``writev``), mounts and namespaces, the
kernel's keyrings, BPF and perf events, modules, the clock, the host's name, swap, reboot.
Built once per template as a classic BPF program (hand-assembled: no compiler and no
libseccomp needed), installed by each instance as the last step of entering its sandbox
(after its own mounts; ``PR_SET_NO_NEW_PRIVS`` is set already), inherited by whatever it runs.

The program, for the machine's architecture (x86_64's and aarch64's numbers)::

    A = seccomp_data.arch
    if A != ARCH: return ERRNO(EPERM)        another ABI (i386 through int 0x80)
    A = seccomp_data.nr
    if A >= 0x40000000: return ERRNO(EPERM)  x86_64's x32 ABI (x86_64 only)
    a binary search of the denied numbers: if found, return ERRNO(EPERM)
    return ALLOW
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import struct

#: The denied calls and their numbers on x86_64 and aarch64 (the generic table); calls since
#: Linux 5.1 have one number on every architecture.
DENIED: dict[str, tuple[int, int]] = {
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "move_mount": (429, 429),
    "open_tree": (428, 428),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "unshare": (272, 97),
    "setns": (308, 268),
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "reboot": (169, 142),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "acct": (163, 89),
    "quotactl": (179, 60),
    "lookup_dcookie": (212, 18),
    "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264),
    "settimeofday": (164, 170),
    "clock_settime": (227, 112),
    "clock_adjtime": (305, 266),
    "adjtimex": (159, 171),
    "sethostname": (170, 161),
    "setdomainname": (171, 162),
}
#: AUDIT_ARCH_* of each machine, and the column of its numbers in DENIED.
ARCHES = {"x86_64": (0xC000003E, 0), "aarch64": (0xC00000B7, 1)}
_X32_BIT = 0x40000000

# Classic BPF's opcodes, and seccomp's return values.
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
EPERM = 1
_ARCH_OFFSET = 4  # struct seccomp_data { int nr; __u32 arch; … }
_NR_OFFSET = 0

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


def program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter for ``machine`` (``platform.machine()``), as (code, jt, jf, k) instructions.
    Raises ``KeyError`` for a machine whose numbers skylet does not know."""
    arch, column = ARCHES[machine]
    numbers = sorted({row[column] for row in DENIED.values()})
    body: list[tuple[int, int | str, int | str, int]] = [
        (_LD_W_ABS, 0, 0, _ARCH_OFFSET),
        (_JEQ_K, 0, "deny", arch),
        (_LD_W_ABS, 0, 0, _NR_OFFSET),
    ]
    if machine == "x86_64":
        body.append((_JGE_K, "deny", 0, _X32_BIT))
    _search(numbers, body)
    body += [(_RET_K, 0, 0, RET_ALLOW), (_RET_K, 0, 0, RET_ERRNO | EPERM)]
    # Resolve "allow" and "deny" (the last two instructions) into relative jumps.
    targets = {"allow": len(body) - 2, "deny": len(body) - 1}
    return [
        (code, _offset(jt, i, targets), _offset(jf, i, targets), k)
        for i, (code, jt, jf, k) in enumerate(body)
    ]


#: Below this many numbers, a search compares each in turn.
_LEAF = 4


def _search(numbers: list[int], body: list[tuple[int, int | str, int | str, int]]) -> None:
    """A binary search of the sorted ``numbers``: ~6 comparisons for 39 calls, not 39. The
    kernel runs a new filter over every call number once when it is installed (to cache what
    it allows), so the comparisons a call costs are paid ~450 times per instance."""
    if len(numbers) <= _LEAF:
        for i, number in enumerate(numbers):
            body.append((_JEQ_K, "deny", "allow" if i == len(numbers) - 1 else 0, number))
        return
    half = len(numbers) // 2
    split = len(body)
    body.append((_JGE_K, 0, 0, numbers[half]))  # jt patched once the lower half is written
    _search(numbers[:half], body)
    body[split] = (_JGE_K, len(body) - split - 1, 0, numbers[half])
    _search(numbers[half:], body)


def _offset(target: int | str, at: int, targets: dict[str, int]) -> int:
    """A jump of the instruction at ``at``: as given, or to a named target."""
    if isinstance(target, int):
        return target
    jump = targets[target] - at - 1
    if not 0 <= jump < 256:
        raise ValueError(f"a jump of {jump} instructions does not fit classic BPF")
    return jump


def run(instructions: list[tuple[int, int, int, int]], arch: int, nr: int) -> int:
    """What the filter returns for call ``nr`` of ABI ``arch``: a small interpreter of the
    instructions :func:`program` uses (the tests read the program through it)."""
    pc, accumulator = 0, 0
    while True:
        code, jt, jf, k = instructions[pc]
        if code == _LD_W_ABS:
            accumulator = arch if k == _ARCH_OFFSET else nr
        elif code == _RET_K:
            return k
        elif code in (_JEQ_K, _JGE_K):
            taken = accumulator == k if code == _JEQ_K else accumulator >= k
            pc += jt if taken else jf
        else:
            raise ValueError(f"opcode {code:#x} is not one the filter uses")
        pc += 1


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@functools.cache
def _compiled() -> tuple[ctypes.Array[ctypes.c_char], _Program, ctypes.CDLL]:
    """The machine's filter as ``struct sock_fprog`` (kept alive with its instructions), and
    libc to install it with."""
    instructions = program(platform.machine())
    packed = b"".join(struct.pack("=HBBI", *ins) for ins in instructions)
    buffer = ctypes.create_string_buffer(packed, len(packed))
    prog = _Program(len(instructions), ctypes.addressof(buffer))
    return buffer, prog, ctypes.CDLL(None, use_errno=True)


def prepare() -> None:
    """Build the filter now (in the template: its instances then only install it)."""
    _compiled()


def install() -> None:
    """Install the filter in this process (single-threaded, ``PR_SET_NO_NEW_PRIVS`` set);
    raises ``OSError`` with the kernel's refusal."""
    _, prog, libc = _compiled()
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl(PR_SET_SECCOMP): {os.strerror(code)}")


def unavailable() -> str | None:
    """Why no filter can be built here (an architecture skylet has no numbers for), or None."""
    machine = platform.machine()
    return None if machine in ARCHES else f"no system call table for {machine}"
