"""What a bench leaves in a store it did not start: nothing.

The machine's Redis (REDIS_URL) is shared with CI and the tests; a bench that writes
under a run prefix of its own deletes every key of that run when it ends, however it
ends. An embedded store the bench started goes with its temporary directory instead.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

__all__ = ["forget"]

_BATCH = 1000


def forget(url: str, prefixes: Iterable[str]) -> int:
    """Delete every key under each prefix and its RQ queue's and jobs' keys; how many.

    The patterns are `<prefix>*`, not `<prefix>:*`, so that rounds run under `<prefix>0`,
    `<prefix>1` ... go too (a prefix is a run's unique name, never a word of another's).
    """
    conn = redis.Redis.from_url(url)
    gone = 0
    try:
        for prefix in prefixes:
            for pattern in (f"{prefix}*", f"rq:*{prefix}*"):
                doomed = list(conn.scan_iter(pattern, count=_BATCH))
                for start in range(0, len(doomed), _BATCH):
                    gone += conn.unlink(*doomed[start : start + _BATCH])
    finally:
        conn.close()
    return gone
