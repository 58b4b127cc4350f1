"""The seccomp filter, read through its interpreter: every denied call of each architecture
is denied with EPERM, everything else allowed, another ABI denied; and installed for real in
a child process, which then gets EPERM where its parent does not."""

from __future__ import annotations

import errno
import os

import pytest

from skylet.worker import linux, seccomp
from skylet.worker.seccomp import ARCHES, DENIED, RET_ALLOW, RET_ERRNO, program, run

DENY = RET_ERRNO | errno.EPERM


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_every_denied_call_is_denied_with_eperm(machine: str) -> None:
    arch, column = ARCHES[machine]
    instructions = program(machine)
    for name, numbers in DENIED.items():
        assert run(instructions, arch, numbers[column]) == DENY, name


@pytest.mark.parametrize(
    ("machine", "nr"),
    [("x86_64", 0), ("x86_64", 1), ("x86_64", 56), ("x86_64", 435), ("aarch64", 63)],
    ids=["read", "write", "clone", "clone3", "read_on_aarch64"],
)
def test_what_functions_use_is_allowed(machine: str, nr: int) -> None:
    arch, _ = ARCHES[machine]
    assert run(program(machine), arch, nr) == RET_ALLOW


def test_another_abi_and_x32_s_numbers_are_denied() -> None:
    instructions = program("x86_64")
    assert run(instructions, 0x40000003, 0) == DENY  # i386, through int 0x80
    assert run(instructions, ARCHES["x86_64"][0], 0x40000000 | 1) == DENY  # x32's write


def test_the_program_fits_classic_bpf_s_jumps() -> None:
    instructions = program("x86_64")
    assert len(instructions) < 4096 and all(jt < 256 for _, jt, _, _ in instructions)


@pytest.mark.skipif(seccomp.unavailable() is not None, reason=str(seccomp.unavailable()))
def test_an_installed_filter_denies_in_the_child_and_not_in_its_parent() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            linux.no_new_privileges()
            seccomp.install()
            os.write(write_end, str(linux.unshare_nothing()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as f:
        child = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert int(child) == errno.EPERM
    assert linux.unshare_nothing() == 0


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_only_the_denied_numbers_are_denied_among_every_number_there_is(machine: str) -> None:
    arch, column = ARCHES[machine]
    instructions = program(machine)
    denied = {numbers[column] for numbers in DENIED.values()}
    got = {nr for nr in range(1024) if run(instructions, arch, nr) == DENY}
    assert got == denied


def test_a_call_costs_a_few_comparisons_not_one_per_denied_call() -> None:
    instructions = program("x86_64")
    assert len(instructions) < 2 * len(DENIED) + 8
    assert sum(1 for code, *_ in instructions if code == 0x35) >= 5  # the search's splits
