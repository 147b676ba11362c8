"""The Redis clients every followsun process talks to the store through.

An address is a plain `redis://` (or `rediss://`, `unix://`) URL, or a Sentinel address,
`redis+sentinel://[:password@]host:port[,host:port...]/master[/db]` (the form other
Sentinel clients read; `Settings` builds it from REDIS_SENTINELS and
REDIS_SENTINEL_MASTER). Through Sentinel every connection asks the sentinels where the
primary is when it connects, so after a failover the next connection reaches the new one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import msgspec
import redis
import redis.sentinel
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

__all__ = ["UNREACHABLE", "SentinelAddress", "connect", "connect_sync", "sentinel_address"]

SCHEME = "redis+sentinel"
# What a command raises when the store did not answer (down, failing over, cut off): the
# edges answer 503 and the caller tries again, rather than 500.
UNREACHABLE: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
_TIMEOUTS = {"socket_timeout": 5.0, "socket_connect_timeout": 2.0}


class SentinelAddress(msgspec.Struct, frozen=True):
    """Where the sentinels are and which primary they watch."""

    sentinels: list[tuple[str, int]]
    master: str
    password: str | None = None
    db: int = 0


def sentinel_address(url: str) -> SentinelAddress | None:
    """The Sentinel address `url` names, or None for a plain Redis URL."""
    if not url.startswith(f"{SCHEME}://"):
        return None
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    sentinels = []
    for item in filter(None, hosts.split(",")):
        host, _, port = item.rpartition(":")
        sentinels.append((host.strip("[]") or "127.0.0.1", int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    if not sentinels or not path:
        raise ValueError(f"{url!r}: want {SCHEME}://host:port[,host:port...]/master[/db]")
    password = unquote(parts.password) if parts.password else None
    return SentinelAddress(sentinels, path[0], password, int(path[1]) if len(path) > 1 else 0)


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's pool (connections to wherever the primary is now) with the blocking
    pool's queueing for a free connection (see `connect`)."""


class _SentinelRedis(Redis):
    """Closing the client also closes its connections to the sentinels."""

    sentinel: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinel is not None:
            await self.sentinel.aclose()


class _SentinelConnection(redis.sentinel.SentinelManagedConnection):
    """redis-py's sync Sentinel connection, but one whose read is interrupted (a signal
    during RQ's BLPOP: a worker told to stop) is dropped, as a plain connection is, rather
    than put back with the reply still unread (the next pipeline then read that reply and
    failed with "Wrong number of response items")."""

    def read_response(self, *args: Any, disconnect_on_error: bool = True, **kwargs: Any) -> Any:
        return super().read_response(*args, disconnect_on_error=disconnect_on_error, **kwargs)


def connect(url: str, *, max_connections: int = 100, wait: float = 10.0) -> Redis:
    """A client whose callers queue for a free connection once `max_connections` commands
    are in flight. redis-py's default pool raises "Too many connections" there instead, so a
    burst of requests past that many would answer 500 rather than take a moment longer."""
    address = sentinel_address(url)
    if address is None:
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=wait, health_check_interval=30
        )
        return Redis.from_pool(pool)
    sentinel = Sentinel(address.sentinels, sentinel_kwargs=dict(_TIMEOUTS))
    client: _SentinelRedis = sentinel.master_for(
        address.master,
        redis_class=_SentinelRedis,
        connection_pool_class=_BlockingSentinelPool,
        max_connections=max_connections,
        timeout=wait,
        health_check_interval=30,
        **_master_kwargs(address),
    )
    client.sentinel = sentinel
    return client


def connect_sync(url: str) -> redis.Redis:
    """A synchronous client, for RQ (its queues, workers and callbacks are synchronous)."""
    address = sentinel_address(url)
    if address is None:
        return redis.Redis.from_url(url)
    sentinel = redis.sentinel.Sentinel(address.sentinels, sentinel_kwargs=dict(_TIMEOUTS))
    return sentinel.master_for(
        address.master, connection_class=_SentinelConnection, **_master_kwargs(address)
    )


def _master_kwargs(address: SentinelAddress) -> dict[str, Any]:
    return {"password": address.password, "db": address.db, **_TIMEOUTS}
