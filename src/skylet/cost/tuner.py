"""Power tuning's runs (``POST /_skylet/tune``): the function at each memory size, through
the invoker's public interface.

For each size a variant of the function is deployed beside it (``<name>--tune-<MB>``, never
metered, no provisioned or reserved concurrency), with its CPU capped in proportion to
memory (1 vCPU at 1,769 MB) by a cgroup quota where the machine allows one. One warm-up
invocation starts its instance (not counted: the figures are warm invocations'), then
``invocations`` run one after another, and the variant is retired. Without a quota every
size gets the CPU there is, and only memory differs: the result says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from skylet.config import FunctionConfig
from skylet.cost.meter import TUNING_MARK
from skylet.cost.pricing import Profile
from skylet.cost.tuning import Sample, table
from skylet.errors import InvalidParameterValue
from skylet.invoker.results import InvocationResult
from skylet.wire import sandbox as names

MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240
MAX_SIZES = 20
MAX_INVOCATIONS = 1000


class Protections(Protocol):
    """The invoker's sandbox report: what is on, what is off and why."""

    @property
    def on(self) -> Mapping[str, str]: ...

    @property
    def off(self) -> Mapping[str, str]: ...


class Functions(Protocol):
    """The invoker, as the tuner uses it."""

    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig: ...

    def deploy_variant(self, fn: FunctionConfig) -> None: ...

    def retire_variant(self, name: str) -> None: ...

    def sandbox(self) -> Protections: ...

    async def invoke(self, name: str, payload: bytes) -> InvocationResult: ...


def check(memory: Sequence[int], invocations: int) -> None:
    """Lambda's memory range, a bounded number of sizes and invocations."""
    if not memory or len(memory) > MAX_SIZES:
        raise InvalidParameterValue(f"memory: give 1 to {MAX_SIZES} sizes")
    for mb in memory:
        if not MIN_MEMORY_MB <= mb <= MAX_MEMORY_MB:
            raise InvalidParameterValue(
                f"memory {mb} is not from {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB"
            )
    if not 1 <= invocations <= MAX_INVOCATIONS:
        raise InvalidParameterValue(f"invocations {invocations} is not from 1 to {MAX_INVOCATIONS}")


def cpu_note(report: Protections) -> tuple[bool, str]:
    """Whether sizes get CPU in proportion to memory here, and the words for it."""
    if names.CPU_WEIGHT in report.on:
        return True, "CPU capped in proportion to memory (1 vCPU at 1,769 MB) by a cgroup quota"
    why = report.off.get(names.CPU_WEIGHT, "the sandbox is off")
    return False, (
        f"no CPU quota here ({why}): every size gets the CPU there is, "
        "so the figures show memory only"
    )


async def tune(
    functions: Functions,
    name: str,
    memory: Sequence[int],
    payload: bytes,
    invocations: int,
    profile: Profile,
) -> dict[str, Any]:
    check(memory, invocations)
    base = functions.function(name)
    capped, note = cpu_note(functions.sandbox())
    samples = []
    for mb in dict.fromkeys(memory):
        variant = dataclasses.replace(
            base,
            name=f"{base.name}{TUNING_MARK}{mb}",
            memory_mb=mb,
            aliases=(),
            provisioned_concurrency=0,
            reserved_concurrency=None,
            cpu_quota=True,
        )
        functions.deploy_variant(variant)
        try:
            await functions.invoke(variant.name, payload)  # the cold start, not counted
            durations: list[float] = []
            billed: list[int] = []
            errors = 0
            for _ in range(invocations):
                result = await functions.invoke(variant.name, payload)
                report = result.invocation_log.report
                durations.append(report.duration_ms)
                billed.append(report.billed_ms)
                errors += result.function_error is not None
        finally:
            functions.retire_variant(variant.name)
        samples.append(Sample(mb, durations, billed, errors))
    found = table(samples, profile, base.architecture)
    return {
        "function": base.name,
        "architecture": base.architecture,
        "profile": profile.name,
        "cpuQuota": capped,
        "cpu": note,
        **found.document(),
    }
