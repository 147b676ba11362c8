"""Coalescing concurrent commits into one script call, on a connection kept for it.

Under load many requests commit at once; sending each on its own costs a round trip
(and, on some machines, expensive system calls) per request. Callers that arrive while
a call is under way wait for the next one, so a busy process sends one script call per
turn of the event loop carrying every pending case, and a quiet one behaves like a plain
call. The script checks and writes each case on its own; only the transport is shared.

Only one call is ever in flight, so the batcher keeps one pooled connection for itself
and writes the EVALSHA on it directly. A quiet process sends one call per request, and
there the client's own path (taking and returning a pool connection, its health and
pending-data checks, the retry and response-callback layers) cost about as much CPU as
routing the case. The pool still owns the connection: closing the client closes it.

With `replicas` set, each call is followed on the same connection by `WAIT replicas
timeout` (sent with it, read after it): WAIT counts the replicas that have every write
this connection made, so a caller hears of its commit only once that many replicas hold
it, and gets NotReplicated when they do not answer in time (the write is on the primary;
whether it outlives a failover is unknown, so the caller is told to try again).
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio.connection import Connection
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

from ..domain.errors import NotReplicated

__all__ = ["ScriptBatcher"]


class ScriptBatcher:
    def __init__(
        self, script: AsyncScript, max_batch: int = 256, replicas: int = 0, timeout_ms: int = 1000
    ) -> None:
        self.script, self.max_batch = script, max_batch
        self.replicas, self.timeout_ms = replicas, timeout_ms
        self._pending: list[tuple[bytes, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._conn: Connection | None = None

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
                results = await self._call([blob for blob, _ in batch])
            except Exception as err:  # NotReplicated too: every caller of the batch retries
                for _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _call(self, args: list[bytes]) -> list[Any]:
        client = self.script.registered_client
        conn = self._conn
        if conn is None:
            conn = self._conn = await client.connection_pool.get_connection()
        commands: list[tuple[Any, ...]] = [("EVALSHA", self.script.sha, 0, *args)]
        if self.replicas:
            commands.append(("WAIT", self.replicas, self.timeout_ms))
        packed = conn.pack_commands(commands)
        try:
            try:
                results, acked = await self._round(conn, packed)
            except NoScriptError:  # a restarted or flushed server: load it and send again
                await client.script_load(self.script.script)
                results, acked = await self._round(conn, packed)
        except ResponseError:
            raise  # the server answered: the connection is in step
        except BaseException:  # lost, timed out or cancelled mid-reply: its state is unknown
            self._conn = None
            await conn.disconnect()
            await client.connection_pool.release(conn)
            raise
        if acked is not None and acked < self.replicas:
            raise NotReplicated(self.replicas, acked, self.timeout_ms)
        return results  # type: ignore[no-any-return]

    async def _round(self, conn: Connection, packed: list[bytes]) -> tuple[Any, int | None]:
        """Send the script (and WAIT), read every reply: an error of the script is raised
        after the WAIT's reply is read, so the connection stays in step."""
        await conn.send_packed_command(packed, check_health=False)
        failure: ResponseError | None = None
        try:
            results = await conn.read_response()
        except ResponseError as err:
            failure, results = err, None
        acked = int(await conn.read_response()) if self.replicas else None
        if failure is not None:
            raise failure
        return results, acked
