"""The pure placement rules of skylet.pool.autoscaler."""

from __future__ import annotations

from skylet.pool import autoscaler
from skylet.pool.autoscaler import HEAD_AGE_S, MAX_DEPTH, MAX_WAIT_MS


def test_the_typical_duration_is_a_moving_average_started_by_the_first_invocation() -> None:
    assert autoscaler.typical_ms(None, 4.0) == 4.0
    typical = 0.1
    typical = autoscaler.typical_ms(typical, 5.1)  # one slow invocation counts...
    assert 0.1 < typical < 1.0  # ...but does not decide alone
    for _ in range(50):
        typical = autoscaler.typical_ms(typical, 0.1)
    assert abs(typical - 0.1) < 0.01


def test_nothing_is_written_ahead_for_a_slow_or_unknown_function() -> None:
    for typical in (None, MAX_WAIT_MS + 0.1, 250.0):
        assert not autoscaler.look_for_running(typical=typical, idle=False, running=4, cpus=2)


def test_an_idle_instance_serves_while_fewer_instances_run_than_there_are_cpus() -> None:
    assert not autoscaler.look_for_running(typical=0.1, idle=True, running=1, cpus=2)
    assert autoscaler.look_for_running(typical=0.1, idle=True, running=2, cpus=2)
    # Nothing idle: waiting briefly behind a running one beats starting an instance.
    assert autoscaler.look_for_running(typical=0.1, idle=False, running=1, cpus=2)
    assert not autoscaler.look_for_running(typical=0.1, idle=False, running=0, cpus=2)


def test_an_instance_takes_more_only_while_the_wait_stays_short() -> None:
    assert autoscaler.can_wait_behind(1, 0.0001, 0.1)
    assert not autoscaler.can_wait_behind(1, HEAD_AGE_S * 2, 0.1)  # its invocation runs long
    assert not autoscaler.can_wait_behind(MAX_DEPTH, 0.0, 0.001)
    most = int(MAX_WAIT_MS / 0.5)
    assert autoscaler.can_wait_behind(most, 0.0, 0.5)
    assert not autoscaler.can_wait_behind(most + 1, 0.0, 0.5)
