"""One leader among the workers: a lease in Redis that lapses unless its holder renews it.

Every worker may run jobs, but the periodic ones (sweep, dispatch, planning, catch-up) are
enqueued by one process at a time: the holder of this lease. The holder renews it well
within its time to live; a holder that dies (kill -9, a lost machine) stops renewing, the
lease expires, and the next worker to ask takes it. A holder that stops on purpose
releases it, so the next one takes over at its next try rather than at the expiry.

The lease is one key set with NX and PX and renewed or released by a script that first
checks the holder's token (the lock redis-py's `Lock` makes, with the holder readable).
A holder cut off from Redis for longer than the lease can briefly overlap with its
successor; the jobs it enqueues are idempotent, so an overlap costs work, not correctness.
"""

from __future__ import annotations

import os
import socket
import uuid

import redis

from .keys import Keys

__all__ = ["Lease"]

# Take the lease if free, renew it if ours: 1; someone else's: 0.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease:
    """The cron leader's lease of one deployment (key prefix), through a sync client."""

    def __init__(
        self, connection: redis.Redis, prefix: str, ttl: float, *, holder: str = ""
    ) -> None:
        self.key = Keys(prefix).cron_leader
        self.ttl_ms = max(1, round(ttl * 1000))
        self.token = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._conn = connection
        self._hold = connection.register_script(_HOLD)
        self._release = connection.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take or renew the lease; False if another holds it or Redis did not answer (a
        holder that cannot renew must act as if it had lost the lease)."""
        try:
            return bool(self._hold(keys=[self.key], args=[self.token, self.ttl_ms]))
        except redis.RedisError:
            return False

    def release(self) -> bool:
        """Give the lease up if still ours (True if it was)."""
        try:
            return bool(self._release(keys=[self.key], args=[self.token]))
        except redis.RedisError:
            return False

    def holder(self) -> str | None:
        """The token of whoever holds the lease now."""
        raw = self._conn.get(self.key)
        return raw.decode() if isinstance(raw, bytes) else raw  # type: ignore[return-value]
