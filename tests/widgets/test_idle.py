"""segwork.widgets.idle: steps built ahead on the kernel's event loop, one per turn."""

from __future__ import annotations

import asyncio
import logging

import pytest

from segwork.widgets.idle import IdleSteps


async def _until(condition, timeout: float = 30.0) -> None:
    """Wait on the loop until ``condition()`` (a generous deadline for a busy machine)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the idle steps did not finish"
        await asyncio.sleep(0.005)


def test_steps_run_one_per_turn_of_the_loop_and_let_messages_in_between() -> None:
    order: list[str] = []

    async def page() -> None:
        loop = asyncio.get_running_loop()

        def step(name: str) -> None:
            order.append(name)
            if name == "quarter":  # a widget message arrives while a step runs
                loop.call_soon(order.append, "message")

        idle = IdleSteps(lambda: [lambda n=n: step(n) for n in ("quarter", "year", "mrr")])
        idle.delay = 0.0
        assert idle.schedule() is True
        assert idle.schedule() is False  # once
        assert order == []  # nothing runs before the cell (the caller) returns to the loop
        await _until(lambda: idle.done)

    asyncio.run(page())
    assert order == ["quarter", "message", "year", "mrr"]


def test_steps_are_chosen_when_the_work_starts() -> None:
    state = {"tables": ["customers"]}
    built: list[str] = []
    idle = IdleSteps(lambda: [lambda t=t: built.append(t) for t in state["tables"]])
    state["tables"] = ["customers", "events"]  # the page changed before it was idle
    idle.run()
    assert built == ["customers", "events"] and idle.done


def test_without_a_running_loop_nothing_is_scheduled() -> None:
    built: list[int] = []
    idle = IdleSteps(lambda: [lambda: built.append(1)])
    assert idle.schedule() is False and built == [] and not idle.done


def test_a_failing_step_is_logged_and_stops_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    built: list[str] = []

    def broken() -> None:
        raise ValueError("mrr: column 'month' is not a date")

    idle = IdleSteps(lambda: [broken, lambda: built.append("year")])
    with caplog.at_level(logging.WARNING, logger="segwork"):
        idle.run()
    assert idle.done and isinstance(idle.error, ValueError) and built == []
    assert "building ahead stopped (mrr: column 'month' is not a date)" in caplog.text
    idle.run()  # done: nothing runs again
    assert built == []


def test_after_a_change_the_steps_are_chosen_again_for_the_new_state() -> None:
    """A page's change re-arms its steps (``again``): a finished run is scheduled again for the
    new state once the page was shown; a run under way goes on with the new state's steps."""
    state = {"as_of": "2024-12-31"}
    built: list[str] = []

    async def page() -> None:
        idle = IdleSteps(
            lambda: [lambda d=state["as_of"], k=k: built.append(f"{k}@{d}") for k in "ab"]
        )
        idle.delay = 0.0
        assert idle.again() is False  # not shown yet: nothing scheduled
        assert idle.schedule() is True
        await _until(lambda: idle.done)
        assert built == ["a@2024-12-31", "b@2024-12-31"]
        state["as_of"] = "2024-06-30"  # a change of the page
        assert idle.again() is True and not idle.done
        await _until(lambda: idle.done)
        assert built[2:] == ["a@2024-06-30", "b@2024-06-30"]
        # a second change before the run's first step: the run builds for the newest state
        state["as_of"] = "2024-03-31"
        assert idle.again() is True
        state["as_of"] = "2023-12-31"
        assert idle.again() is False  # under way: it goes on, with the new steps
        await _until(lambda: idle.done)

    asyncio.run(page())
    assert built[4:] == ["a@2023-12-31", "b@2023-12-31"]
