"""How long to wait before trying again after consecutive failures. Pure."""

from __future__ import annotations


def backoff_s(failures: int, *, first_s: float, cap_s: float) -> float:
    """Exponential back-off: nothing after no failure, then ``first_s``, doubling with each
    further failure, never more than ``cap_s``. With ``first_s=1`` and ``cap_s=300``: 0, 1,
    2, 4 … 256, 300, 300 …"""
    if failures <= 0:
        return 0.0
    # 2 ** 64 would only overflow the float into inf, but there is no need to get there.
    return min(first_s * 2.0 ** min(failures - 1, 62), cap_s)
