"""Which cgroup hierarchy skylet uses, decided from what /proc/self/cgroup and /sys/fs/cgroup
show (given as inputs), and v2's weights in proportion to memory as v1's shares are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skylet.pool.sandbox import cpu_shares
from skylet.worker.cgroups import CpuWeights, Hierarchy, choose, v2_weight

#: This machine's kind: cgroup v1 controllers, and a unified mount that holds none.
HYBRID = """\
12:cpu,cpuacct:/
11:pids:/
4:memory:/process_api/c8b1
0::/
"""
#: A pure v2 machine under systemd: skylet in its service's cgroup.
UNIFIED_SERVICE = "0::/system.slice/skylet.service\n"
UNIFIED_ROOT = "0::/\n"


def _machine(files: dict[str, str]) -> tuple[object, object]:
    return (lambda path: path in files), (lambda path: files.get(path, ""))


@pytest.mark.parametrize(
    ("self_cgroup", "files", "chosen"),
    [
        (
            HYBRID,
            {
                "/sys/fs/cgroup/cpu/cpu.shares": "1024",
                "/sys/fs/cgroup/unified/cgroup.controllers": "",
            },
            Hierarchy(1, "/sys/fs/cgroup/cpu"),
        ),
        (
            UNIFIED_SERVICE,
            {
                "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids",
                "/sys/fs/cgroup/system.slice/skylet.service/cgroup.controllers": "cpu memory pids",
            },
            Hierarchy(2, "/sys/fs/cgroup/system.slice/skylet.service", pids=True, below_root=True),
        ),
        (
            UNIFIED_ROOT,
            {"/sys/fs/cgroup/cgroup.controllers": "cpu io"},
            Hierarchy(2, "/sys/fs/cgroup", pids=False, below_root=False),
        ),
        (
            "0::/\n",
            {"/sys/fs/cgroup/unified/cgroup.controllers": "cpu pids"},
            Hierarchy(2, "/sys/fs/cgroup/unified", pids=True),
        ),
    ],
    ids=[
        "v1_s_cpu_controller_on_a_hybrid_machine",
        "v2_in_a_systemd_service_s_cgroup_moves_into_a_leaf",
        "v2_at_the_root_without_pids",
        "v2_on_a_hybrid_mount_that_holds_cpu",
    ],
)
def test_the_hierarchy_with_a_cpu_controller_is_chosen(
    self_cgroup: str, files: dict[str, str], chosen: Hierarchy
) -> None:
    exists, read = _machine(files)
    assert choose(self_cgroup, exists, read, euid=0) == chosen  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("self_cgroup", "files", "euid", "reason"),
    [
        (HYBRID, {}, 1000, "skylet is not root (uid 1000)"),
        (
            "12:cpu,cpuacct:/\n0::/\n",
            {"/sys/fs/cgroup/unified/cgroup.controllers": ""},
            0,
            "cgroup v2's /sys/fs/cgroup/unified offers no cpu controller (none; the others are "
            "in cgroup v1)",
        ),
        (
            UNIFIED_SERVICE,
            {
                "/sys/fs/cgroup/cgroup.controllers": "cpu memory pids",
                "/sys/fs/cgroup/system.slice/skylet.service/cgroup.controllers": "memory pids",
            },
            0,
            "offers no cpu controller (memory pids; the others are in no controller)",
        ),
        ("12:cpu:/\n", {}, 0, "no cgroup v1 cpu controller and no cgroup v2 hierarchy"),
        (UNIFIED_ROOT, {}, 0, "no cgroup v2 hierarchy is mounted"),
    ],
    ids=[
        "not_root",
        "a_hybrid_machine_whose_cpu_controller_is_not_mounted",
        "a_v2_cgroup_not_given_the_cpu_controller",
        "neither_hierarchy",
        "v2_named_but_not_mounted",
    ],
)
def test_without_a_cpu_controller_the_reason_is_said(
    self_cgroup: str, files: dict[str, str], euid: int, reason: str
) -> None:
    exists, read = _machine(files)
    got = choose(self_cgroup, exists, read, euid=euid)  # type: ignore[arg-type]
    assert isinstance(got, str) and got.endswith(reason), got


@pytest.mark.parametrize(
    ("memory_mb", "weight"),
    [(128, 7), (1769, 100), (3008, 170), (10_240, 579)],
    ids=["lambdas_smallest", "one_cpu_is_v2_s_default", "lambdas_old_largest", "lambdas_largest"],
)
def test_v2_weight_is_in_proportion_to_memory_as_v1_shares_are(memory_mb: int, weight: int) -> None:
    assert v2_weight(cpu_shares(memory_mb)) == weight


def test_v2_weight_stays_within_the_kernel_s_range() -> None:
    assert v2_weight(2) == 1 and v2_weight(10**9) == 10_000


def test_each_hierarchy_says_what_it_sets() -> None:
    assert Hierarchy(1, "/x").describe() == "cgroup v1 cpu.shares, 1024 per 1,769 MB of memory"
    assert (
        Hierarchy(2, "/x", pids=True)
        .describe()
        .endswith("cpu.weight, 100 per 1,769 MB of memory, pids.max")
    )


def test_v2_writes_the_weight_the_limit_and_hands_the_function_its_procs(tmp_path: Path) -> None:
    # A directory stands in for the cgroup: what is written where, not what the kernel does.
    weights = CpuWeights(Hierarchy(2, str(tmp_path), pids=True, below_root=True))
    weights.start(platform_pid=4321)
    base = Path(weights.base)
    leaf = tmp_path / f"{base.name}-platform"
    assert (leaf / "cgroup.procs").read_text() == str(os.getpid())  # the last of the two
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpu +pids"
    assert (base / "cgroup.subtree_control").read_text() == "+cpu +pids"
    for name in ("cgroup.procs", "cgroup.threads"):
        (base / "t1").mkdir(exist_ok=True)
        (base / "t1" / name).touch()
    uid = os.getuid()
    made = weights.create("t1", cpu_shares(128), uid, 5120)
    assert (Path(made) / "cpu.weight").read_text() == "7"
    assert (Path(made) / "pids.max").read_text() == "5120"
    assert weights.template_cgroup(made) == made


def test_v1_s_templates_wait_in_a_cgroup_of_their_own(tmp_path: Path) -> None:
    weights = CpuWeights(Hierarchy(1, str(tmp_path)))
    weights.start(platform_pid=4321)
    assert Path(weights.templates, "cpu.shares").read_text() == "2"
    for name in ("cgroup.procs", "tasks"):
        Path(weights.base, "t1").mkdir(exist_ok=True)
        Path(weights.base, "t1", name).touch()
    made = weights.create("t1", cpu_shares(1769), None)
    assert Path(made, "cpu.shares").read_text() == "1024"
    assert weights.template_cgroup(made) == weights.templates


def test_a_quota_is_v1_s_cfs_quota_and_v2_s_cpu_max(tmp_path: Path) -> None:
    v1 = CpuWeights(Hierarchy(1, str(tmp_path / "v1")))
    v1.start(platform_pid=4321)
    made = Path(v1.create("t1", cpu_shares(512), None, quota_us=28943))
    assert (made / "cpu.cfs_period_us").read_text() == "100000"
    assert (made / "cpu.cfs_quota_us").read_text() == "28943"
    v2 = CpuWeights(Hierarchy(2, str(tmp_path / "v2")))
    (tmp_path / "v2").mkdir()
    v2.start(platform_pid=4321)
    made = Path(v2.create("t1", cpu_shares(512), None, quota_us=28943))
    assert (made / "cpu.max").read_text() == "28943 100000"
    uncapped = Path(v2.create("t2", cpu_shares(512), None))
    assert not (uncapped / "cpu.max").exists()
