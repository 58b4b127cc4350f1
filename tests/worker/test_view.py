"""The filesystem view's plan (pure): what is hidden, what is shown again inside, in order."""

from __future__ import annotations

import pytest

from skylet.worker.view import Op, outermost, plan, seen

CLOSED = {"/tmp/pytest-of-root", "/root"}


@pytest.mark.parametrize(
    ("hide", "reveal", "ops"),
    [
        (["/p"], [], [Op("hide", "/p")]),
        (["/p"], ["/p"], []),
        (["/p", "/p/.skylet"], ["/p"], [Op("hide", "/p/.skylet")]),
        (
            ["/p", "/p/.skylet"],
            ["/p/.skylet/code/f-1", "/p/.skylet/deps/abc"],
            [
                Op("hide", "/p"),
                Op("reveal", "/p/.skylet/code/f-1"),
                Op("reveal", "/p/.skylet/deps/abc"),
            ],
        ),
        (
            ["/home/u", "/home/u/p"],
            ["/home/u/p/a"],
            [Op("hide", "/home/u"), Op("reveal", "/home/u/p/a")],
        ),
        (
            [],
            ["/tmp/pytest-of-root/t0/p"],
            [Op("hide", "/tmp/pytest-of-root"), Op("reveal", "/tmp/pytest-of-root/t0/p")],
        ),
        (
            ["/root"],
            ["/root/.pyenv/versions/3.11"],
            [Op("hide", "/root"), Op("reveal", "/root/.pyenv/versions/3.11")],
        ),
        (["/"], ["/usr"], []),
        (["/data"], ["/elsewhere"], [Op("hide", "/data")]),
    ],
    ids=[
        "a hidden directory gets a mount",
        "a path both hidden and revealed is revealed (a function's code is the project)",
        "the data directory inside revealed code is hidden again",
        "snapshots and dependencies inside the hidden data directory are shown again",
        "code inside a hidden home is shown, the rest of the home is not",
        "a directory closed to others on the way to the code is hidden, the code shown",
        "the interpreter under root's closed home is shown",
        "the root is never hidden",
        "what is already seen needs no mount",
    ],
)
def test_the_plan(hide: list[str], reveal: list[str], ops: list[Op]) -> None:
    assert plan(hide, reveal, closed=CLOSED.__contains__) == ops


def test_what_the_plan_shows() -> None:
    ops = plan(["/p", "/p/.skylet"], ["/p/.skylet/code/f"])
    assert [seen(p, ops) for p in ("/p/a.py", "/p/.skylet/state.db", "/p/.skylet/code/f/h.py")] == [
        False,
        False,
        True,
    ]
    assert seen("/usr/lib", ops)


def test_outermost_drops_what_lies_below_another() -> None:
    assert outermost(["/tmp/a/b", "/tmp/a", "/tmp/c"]) == ["/tmp/a", "/tmp/c"]


def test_a_relative_path_is_refused() -> None:
    with pytest.raises(ValueError, match="not an absolute path"):
        plan(["data"], [])
