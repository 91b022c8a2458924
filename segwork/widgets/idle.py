"""Work a page does while its kernel is idle, after the page is shown.

A page builds ahead what a later change would otherwise build first: each customer's activity
per quarter and year of all time (the cohort page's first change of period), the histograms the
note of rows set aside sums for an earlier as_of.  Built with the first render they made the
first number wait; built once the page is shown and its kernel is idle, they are ready before a
person's first change.  After each change the steps are chosen again for the new state
(:meth:`IdleSteps.again`): the sections of a new date are built while the person reads it.

:class:`IdleSteps` runs the steps on the kernel's own event loop, one step per turn of the loop
on its main thread: a widget message that arrives meanwhile waits for at most one step, and no
second thread ever shares the engine's connection (a DuckDB connection is not thread-safe).
Outside a running event loop (a script, a test, a benchmark) nothing is scheduled: a change
builds what it needs, as it always can, and :meth:`IdleSteps.run` builds everything now.
The steps only fill the engine's caches, so whether they ran never changes a number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

__all__ = ["IDLE_DELAY_S", "IdleSteps", "kernel_loop"]

#: Seconds between the page being shown and its first idle step.  A papermill report shuts its
#: kernel down sooner than this after the last cell, so a report does no work it cannot use.
IDLE_DELAY_S = 1.0

log = logging.getLogger("segwork")

Step = Callable[[], object]


def kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop (a kernel's, when a widget message or a cell is handled), else
    None (a script, a test, a benchmark).

    >>> kernel_loop() is None
    True
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class IdleSteps:
    """Steps to run once, when the kernel is idle (or now, with :meth:`run`).

    Parameters
    ----------
    steps : callable
        Returns the steps (argument-less callables) when the work starts, so that they are
        chosen for the page's state at that time.
    delay : float, default :data:`IDLE_DELAY_S`
        Seconds from :meth:`schedule` to the first step.

    Examples
    --------
    >>> built = []
    >>> idle = IdleSteps(lambda: [lambda: built.append("quarter"), lambda: built.append("year")])
    >>> idle.schedule()  # no event loop is running here: nothing is scheduled
    False
    >>> idle.run()
    >>> built, idle.done
    (['quarter', 'year'], True)
    >>> idle.run()  # once only
    >>> built
    ['quarter', 'year']
    >>> idle.again()  # the page's state changed: the steps are chosen again (none scheduled)
    False
    >>> idle.run()
    >>> built
    ['quarter', 'year', 'quarter', 'year']
    """

    def __init__(self, steps: Callable[[], Iterable[Step]], *, delay: float = IDLE_DELAY_S) -> None:
        self._make = steps
        self.delay = delay
        self._left: list[Step] | None = None  # None: not started
        self._scheduled = False
        self.done = False
        #: the error that stopped the steps (logged; the change that needs the same table
        #: meets it again and shows it in the page)
        self.error: BaseException | None = None

    def _steps(self) -> list[Step]:
        if self._left is None:
            self._left = list(self._make())
        return self._left

    def _one(self) -> bool:
        """Run the next step; False when none is left (or one failed)."""
        left = self._steps()
        if self.done or not left:
            self.done = True
            return False
        step = left.pop(0)
        try:
            step()
        except Exception as err:  # a warm-up: logged, and met again by the change needing it
            self.error, self.done = err, True
            log.warning("segwork: building ahead stopped (%s); a change builds it instead", err)
            return False
        if not left:
            self.done = True
        return not self.done

    def run(self) -> None:
        """Run every step left, now."""
        while self._one():
            pass

    def again(self) -> bool:
        """Choose the steps again at their next turn, for the page's new state (what a section
        would build at a new date, say).  A run under way goes on with them; a finished one is
        scheduled again when it was scheduled before (the page was shown) and a loop runs.
        Returns whether a new run was scheduled."""
        finished = self.done
        self._left, self.done, self.error = None, False, None
        if finished and self._scheduled and kernel_loop() is not None:
            self._scheduled = False
            return self.schedule()
        return False

    def schedule(self) -> bool:
        """Run the steps on the running event loop, one per turn, after :attr:`delay` seconds.

        Returns whether they were scheduled (False without a running loop, or when already
        scheduled or done).
        """
        loop = kernel_loop()
        if self._scheduled or self.done or loop is None:  # no loop: a change builds what it needs
            return False
        self._scheduled = True

        def turn() -> None:
            if self._one():
                loop.call_soon(turn)  # the next step after any message waiting now

        loop.call_later(self.delay, turn)
        return True
