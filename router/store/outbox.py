"""The outbox stream, the customer updates as sent, and the dead letters.

The outbox is read in a consumer group, so each message is handled once even with several
workers, and one a crashed worker held is claimed again after a minute.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from redis.asyncio import Redis

from ..domain.delivery import DeadLetter, Delivered
from ..domain.handover import Outbox
from .codec import decode, encode
from .keys import Keys

__all__ = ["DeadLetters", "OutboxStore", "Pending"]

GROUP = "dispatch"
_CLAIM_AFTER_MS = 60_000

Pending = tuple[str, Outbox]  # (stream entry id, message)

# An update as sent is kept on its case (once), unless the case's personal data was
# removed meanwhile (store/customers.py): a dispatch racing an erasure records nothing.
_RECORD = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3])
end
"""


class OutboxStore:
    def __init__(self, redis_client: Redis, keys: Keys) -> None:
        self._redis = redis_client
        self._keys = keys
        self._record = redis_client.register_script(_RECORD)

    async def take(self, consumer: str, count: int) -> list[Pending]:
        """What a dead consumer left (idle a minute), then what is new, for `consumer`."""
        k = self._keys
        try:
            await self._redis.xgroup_create(k.outbox, GROUP, id="0", mkstream=True)
        except redis.ResponseError as err:  # BUSYGROUP: it exists
            if "BUSYGROUP" not in str(err):
                raise
        claimed = await self._redis.xautoclaim(
            k.outbox, GROUP, consumer, min_idle_time=_CLAIM_AFTER_MS, start_id="0-0", count=count
        )
        entries = list(claimed[1])
        for _, items in await self._redis.xreadgroup(GROUP, consumer, {k.outbox: ">"}, count=count):
            entries += items
        return [(_text(entry_id), decode(fields[b"e"], Outbox)) for entry_id, fields in entries]

    async def done(self, handled: Sequence[tuple[str, Delivered | None]]) -> None:
        """Acknowledge handled entries; a customer update is kept on its case as sent (once:
        a message handled twice after a crash keeps its first rendering)."""
        pipe = self._redis.pipeline(transaction=False)
        for entry_id, sent in handled:
            if sent is not None:
                keys = [self._keys.case_updates(sent.case), self._keys.anonymised]
                await self._record(keys=keys, args=[sent.case, sent.key, encode(sent)], client=pipe)
            pipe.xack(self._keys.outbox, GROUP, entry_id)
        await pipe.execute()

    async def sent_updates(self, case_id: str) -> list[Delivered]:
        """A case's customer updates as sent, in the order they were written."""
        raw = await self._redis.hgetall(self._keys.case_updates(case_id))
        return sorted((decode(v, Delivered) for v in raw.values()), key=Delivered.order)

    async def dead_letters(self) -> list[DeadLetter]:
        raw = await self._redis.hgetall(self._keys.dead_letters)
        return sorted((decode(v, DeadLetter) for v in raw.values()), key=lambda d: d.failed_at)


class DeadLetters:
    """The dead-letter hash through a synchronous client: RQ's failure callbacks and the
    replay that enqueues a fresh job run outside any event loop."""

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self._conn = connection
        self._key = Keys(prefix).dead_letters

    def keep(self, letter: DeadLetter) -> None:
        self._conn.hset(self._key, letter.id, encode(letter))

    def get(self, letter_id: str) -> DeadLetter | None:
        raw = self._conn.hget(self._key, letter_id)
        return decode(raw, DeadLetter) if raw is not None else None  # type: ignore[arg-type]

    def remove(self, letter_id: str) -> None:
        self._conn.hdel(self._key, letter_id)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
