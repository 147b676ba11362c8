"""Coroutine jobs run to completion whether or not the calling thread already runs a loop."""

from __future__ import annotations

import asyncio
import threading

from router.jobs.tasks import coroutine_job


@coroutine_job
async def where(x: int) -> tuple[int, str]:
    await asyncio.sleep(0)
    return x * 2, threading.current_thread().name


def test_a_job_runs_in_a_thread_without_a_loop() -> None:
    assert where(2) == (4, threading.current_thread().name)


async def test_a_job_called_inside_a_running_loop_gets_a_loop_of_its_own() -> None:
    value, thread = where(3)  # asyncio.run here would refuse: this thread runs a loop
    assert value == 6
    assert thread != threading.current_thread().name


def test_the_job_keeps_its_dotted_name_for_rq() -> None:
    assert (where.__module__, where.__qualname__) == (__name__, "where")
