"""What each function's template enters, decided from what the machine offers (pure), and
what the banner and /health report."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from skylet.config import FunctionConfig
from skylet.pool.sandbox import UID_BASE, SandboxPolicy, cpu_quota_us, cpu_shares
from skylet.wire import sandbox as names
from skylet.wire.sandbox import VERSION, Mechanisms, TemplateSpec

EVERYTHING = Mechanisms(MappingProxyType({name: "yes" for name in names.ALL}))
UNPRIVILEGED = Mechanisms(
    MappingProxyType(
        {n: "yes" for n in (names.USER_NS, names.PID_NS, names.MOUNT_NS, names.NON_DUMPABLE)}
    ),
    MappingProxyType({names.UID: "skylet is not root", names.CPU_WEIGHT: "skylet is not root"}),
)


def _fn(**overrides: Any) -> FunctionConfig:
    base = FunctionConfig("f", "h.handler", Path("/srv/f"), extra_path=("/srv/deps",))
    return dataclasses.replace(base, **overrides)


@pytest.mark.parametrize(
    ("memory_mb", "shares"),
    [(128, 74), (1769, 1024), (3008, 1741), (10_240, 5928)],
    ids=["lambdas_smallest", "one_cpu", "lambdas_old_largest", "lambdas_largest"],
)
def test_cpu_weight_is_in_proportion_to_memory_as_lambdas_cpu(memory_mb: int, shares: int) -> None:
    assert cpu_shares(memory_mb) == shares


def test_every_mechanism_the_machine_has_is_entered() -> None:
    policy = SandboxPolicy(mechanisms=EVERYTHING)
    policy.hide([Path("/srv"), Path("/srv/.skylet")])
    spec = policy.spec_for(_fn(memory_mb=1769, ephemeral_storage_mb=1024))
    assert spec == TemplateSpec(
        user_ns=True,
        mount_ns=True,
        pid_ns=True,
        ipc_ns=True,
        net_ns=False,
        uid=UID_BASE,
        cpu_shares=1024,
        nproc=1024,
        pids_max=1024 * 1000,
        seccomp=True,
        tmp_mb=1024,
        hide=("/srv", "/srv/.skylet"),
        reveal=("/srv/f", "/srv/deps"),
    )


@pytest.mark.parametrize(
    ("reserved", "pids"),
    [(None, 1024 * 1000), (5, 5120), (0, 1024)],
    ids=["as_many_instances_as_the_platform_runs", "its_reserved_concurrency", "none_reserved"],
)
def test_a_function_s_processes_together_are_1024_per_instance_it_may_run(
    reserved: int | None, pids: int
) -> None:
    spec = SandboxPolicy(mechanisms=EVERYTHING).spec_for(_fn(reserved_concurrency=reserved))
    assert spec.pids_max == pids


def test_each_function_has_a_uid_of_its_own_for_as_long_as_skylet_runs() -> None:
    policy = SandboxPolicy(mechanisms=EVERYTHING)
    first, second = policy.spec_for(_fn(name="a")), policy.spec_for(_fn(name="b"))
    assert (first.uid, second.uid) == (UID_BASE, UID_BASE + 1)
    assert policy.spec_for(_fn(name="a", memory_mb=512)).uid == UID_BASE


def test_unprivileged_there_is_no_uid_and_no_cgroup() -> None:
    spec = SandboxPolicy(mechanisms=UNPRIVILEGED).spec_for(_fn())
    assert (spec.user_ns, spec.pid_ns, spec.uid, spec.cpu_shares) == (True, True, None, None)


def test_a_function_without_network_asks_for_a_network_namespace_even_where_there_is_none() -> None:
    assert SandboxPolicy(mechanisms=UNPRIVILEGED).spec_for(_fn(network=False)).net_ns


def test_no_sandbox_enters_nothing_and_says_so() -> None:
    policy = SandboxPolicy(enabled=False, mechanisms=EVERYTHING)
    assert policy.spec_for(_fn(ephemeral_storage_mb=700)) == TemplateSpec(tmp_mb=700)
    report = policy.report()
    assert dict(report.on) == {names.NON_DUMPABLE: "yes"}
    assert report.off[names.PID_NS] == "--no-sandbox"


def test_the_report_says_what_is_off_and_why() -> None:
    lines = SandboxPolicy(mechanisms=UNPRIVILEGED).report().lines()
    assert lines == [
        "sandbox: user namespace, pid namespace, mount namespace, non-dumpable",
        "sandbox off: uid per function (skylet is not root); cpu weight (skylet is not root)",
    ]


def test_the_records_cross_the_socket_unchanged() -> None:
    spec = SandboxPolicy(mechanisms=EVERYTHING).spec_for(_fn())
    assert TemplateSpec.decode(spec.encode()) == spec
    assert Mechanisms.decode(EVERYTHING.encode()) == EVERYTHING
    with pytest.raises(ValueError, match="version"):
        TemplateSpec.decode({**spec.encode(), "v": VERSION + 1})


@pytest.mark.parametrize(
    ("memory_mb", "quota_us"),
    [(128, 7236), (512, 28943), (1769, 100_000), (3008, 170_040)],
    ids=["a_fourteenth_of_a_cpu", "512_mb", "one_cpu", "1_7_cpus"],
)
def test_a_capped_function_gets_cpu_time_in_proportion_to_memory(
    memory_mb: int, quota_us: int
) -> None:
    assert cpu_quota_us(memory_mb) == quota_us
    spec = SandboxPolicy(mechanisms=EVERYTHING).spec_for(_fn(memory_mb=memory_mb, cpu_quota=True))
    assert spec.cpu_quota_us == quota_us
    assert TemplateSpec.decode(spec.encode()).cpu_quota_us == quota_us


def test_only_a_capped_function_on_a_machine_with_cgroups_gets_a_quota() -> None:
    assert SandboxPolicy(mechanisms=EVERYTHING).spec_for(_fn()).cpu_quota_us is None
    unprivileged = SandboxPolicy(mechanisms=UNPRIVILEGED).spec_for(_fn(cpu_quota=True))
    assert unprivileged.cpu_quota_us is None
    assert SandboxPolicy(enabled=False).spec_for(_fn(cpu_quota=True)).cpu_quota_us is None


ROOT_WITHOUT_USER_NS = Mechanisms(
    MappingProxyType({n: "yes" for n in names.ALL if n != names.USER_NS}),
    MappingProxyType({names.USER_NS: "unprivileged user namespaces are disabled"}),
)


@pytest.mark.parametrize(
    ("policy", "as_root"),
    [
        (SandboxPolicy(mechanisms=EVERYTHING), False),
        (SandboxPolicy(mechanisms=UNPRIVILEGED), False),
        (SandboxPolicy(mechanisms=ROOT_WITHOUT_USER_NS), True),
        (SandboxPolicy(enabled=False, mechanisms=ROOT_WITHOUT_USER_NS), False),
    ],
    ids=[
        "root with user namespaces: the template is the function's uid",
        "not root: the template is skylet's user",
        "root without user namespaces: the template keeps root",
        "no sandbox: the template is skylet's own process",
    ],
)
def test_a_template_that_keeps_root_runs_none_of_the_functions_code(
    policy: SandboxPolicy, as_root: bool
) -> None:
    assert policy.templates_run_as_root() is as_root
    assert (policy.snapshots_refused() is not None) is as_root


def test_a_knative_program_gets_the_view_and_a_uid_of_its_own_but_keeps_the_network() -> None:
    policy = SandboxPolicy(mechanisms=EVERYTHING)
    policy.hide([Path("/srv"), Path("/srv/.skylet")])
    policy.spec_for(_fn(name="a"))
    spec = policy.program_spec("hello", Path("/srv/hello"))
    assert spec == TemplateSpec(
        user_ns=False,  # as root its uid is set directly: no outside writer of a user map
        mount_ns=True,
        ipc_ns=True,
        uid=UID_BASE + 1,
        tmp_mb=512,
        hide=("/srv", "/srv/.skylet"),
        reveal=("/srv/hello",),
    )
    assert not spec.net_ns and not spec.pid_ns


def test_an_unprivileged_program_enters_a_user_namespace() -> None:
    spec = SandboxPolicy(mechanisms=UNPRIVILEGED).program_spec("hello", Path("/srv/hello"))
    assert spec is not None and spec.user_ns and spec.uid is None


def test_no_sandbox_gives_a_program_nothing_to_enter() -> None:
    assert SandboxPolicy(enabled=False, mechanisms=EVERYTHING).program_spec("h", Path("/")) is None
