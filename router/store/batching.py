"""Coalescing concurrent script calls into one pipeline round trip.

Under load many requests commit at once; sending each EVALSHA on its own costs a round
trip (and, on some machines, expensive system calls) per request. Callers that arrive
while a batch is being sent wait for the next one, so a busy process sends one pipeline
per turn of the event loop and a quiet one behaves like a plain call. Each script still
runs atomically on its own; only the transport is shared.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

__all__ = ["ScriptBatcher"]


class ScriptBatcher:
    def __init__(self, redis: Redis, script: AsyncScript, max_batch: int = 256) -> None:
        self.redis, self.script, self.max_batch = redis, script, max_batch
        self._pending: list[tuple[list[Any], list[Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def __call__(self, keys: list[Any], args: list[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((keys, args, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the callers of this turn join the batch
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                if len(batch) == 1:
                    keys, args, _ = batch[0]
                    results: list[Any] = [await self.script(keys=keys, args=args)]
                else:
                    pipe = self.redis.pipeline(transaction=False)
                    for keys, args, _ in batch:
                        await self.script(keys=keys, args=args, client=pipe)
                    results = await pipe.execute(raise_on_error=False)
            except Exception as err:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            for (*_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
