"""Coalescing concurrent commits into one script call.

Under load many requests commit at once; sending each on its own costs a round trip
(and, on some machines, expensive system calls) per request. Callers that arrive while
a call is under way wait for the next one, so a busy process sends one script call per
turn of the event loop carrying every pending case, and a quiet one behaves like a plain
call. The script checks and writes each case on its own; only the transport is shared.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.commands.core import AsyncScript

__all__ = ["ScriptBatcher"]


class ScriptBatcher:
    def __init__(self, script: AsyncScript, max_batch: int = 256) -> None:
        self.script, self.max_batch = script, max_batch
        self._pending: list[tuple[bytes, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def __call__(self, blob: bytes) -> Any:
        """The script's result for this one case."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((blob, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the callers of this turn join the batch
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                results = await self.script(keys=[], args=[blob for blob, _ in batch])
            except Exception as err:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
