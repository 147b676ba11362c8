"""Versioned documents: what people edit (a team, the policy), with optimistic concurrency.

Each document is a hash {v, doc}; a write names the version it was based on (the ETag the
client got), and a Lua script refuses it if the stored version moved on. Every write also
appends a revision (who, when, the whole document) to the document's stream and bumps the
one schedules counter that tells every process to reload its calendar. Teams and the
policy are both kept this way, by this one piece of code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Generic, TypeVar

import msgspec
from redis.asyncio import Redis

from ..domain.errors import StaleVersion
from .codec import decode, encode

__all__ = ["NEVER", "Documents", "Entry"]

T = TypeVar("T")

# KEYS: the document's hash, the schedules counter, its revisions stream, [the id set].
# ARGV: expected version, document ('' deletes), by, at, note, [id].
_PUT = """
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local exists = redis.call('HEXISTS', KEYS[1], 'doc') == 1
local expected = tonumber(ARGV[1])
if expected == 0 and exists then return {0, cur} end
if expected > 0 and (cur ~= expected or not exists) then return {0, cur} end
if expected < -1 then return {0, cur} end
local v = cur + 1
if ARGV[2] == '' then
  if not exists then return {0, cur} end
  redis.call('HDEL', KEYS[1], 'doc')
  redis.call('HSET', KEYS[1], 'v', v)
  if KEYS[4] then redis.call('SREM', KEYS[4], ARGV[6]) end
else
  redis.call('HSET', KEYS[1], 'v', v, 'doc', ARGV[2])
  if KEYS[4] then redis.call('SADD', KEYS[4], ARGV[6]) end
end
redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], '*', 'v', v, 'by', ARGV[3], 'at', ARGV[4],
           'doc', ARGV[2], 'note', ARGV[5])
return {1, v}
"""

NEVER = -2  # an If-Match that cannot match anything (not an ETag we gave out)


class Entry(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One revision as stored: the document as written (None: deleted)."""

    version: int
    by: str
    at: datetime
    doc: T | None
    note: str = ""


class Documents(Generic[T]):
    """The documents of one type, each under an id: `key(id)` its hash, `revisions(id)`
    its stream; `index` (optional) the set of the ids that exist; `what(id)` names one in
    errors ("team ams-l1", "policy")."""

    def __init__(
        self,
        redis: Redis,
        type_: type[T],
        *,
        key: Callable[[str], str],
        revisions: Callable[[str], str],
        counter: str,
        what: Callable[[str], str],
        index: str | None = None,
    ) -> None:
        self.redis, self._type = redis, type_
        self._key, self._revisions, self._counter = key, revisions, counter
        self._what, self._index = what, index
        self._put = redis.register_script(_PUT)

    async def put(
        self, doc_id: str, doc: T | None, *, expected: int | None, by: str, at: datetime, note: str
    ) -> int:
        """Write (or with doc=None delete) a document. expected=None: whatever is stored;
        0: must not exist now; N: must be at version N; NEVER: refuse. Versions only grow,
        also across a delete, so an old ETag can never match a re-created document. Returns
        the new version; raises StaleVersion on a lost race."""
        keys = [self._key(doc_id), self._counter, self._revisions(doc_id)]
        args: list[str | bytes | int] = [
            -1 if expected is None else expected,
            encode(doc) if doc is not None else b"",
            by,
            at.isoformat(),
            note,
        ]
        if self._index is not None:
            keys.append(self._index)
            args.append(doc_id)
        result = await self._put(keys=keys, args=args)
        if result[0] == 0:
            raise StaleVersion(self._what(doc_id), expected or 0, int(result[1]))
        return int(result[1])

    async def get(self, doc_id: str) -> tuple[int, T] | None:
        """(version, document), or None when there is none."""
        v, doc = await self.redis.hmget(self._key(doc_id), ["v", "doc"])
        return (int(v), decode(doc, self._type)) if doc else None

    async def ids(self) -> list[str]:
        assert self._index is not None, "documents without an id set"
        return sorted(m.decode() for m in await self.redis.smembers(self._index))

    async def many(self, ids: list[str]) -> dict[str, tuple[int, T]]:
        """The documents of `ids` that exist, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for doc_id in ids:
            pipe.hmget(self._key(doc_id), ["v", "doc"])
        out = {}
        for doc_id, (v, doc) in zip(ids, await pipe.execute(), strict=True):
            if doc:
                out[doc_id] = (int(v), decode(doc, self._type))
        return out

    async def history(self, doc_id: str) -> list[Entry[T]]:
        """Every revision of a document, oldest first."""
        out: list[Entry[T]] = []
        for _, f in await self.redis.xrange(self._revisions(doc_id)):
            out.append(
                Entry(
                    version=int(f[b"v"]),
                    by=f[b"by"].decode(),
                    at=datetime.fromisoformat(f[b"at"].decode()),
                    doc=decode(f[b"doc"], self._type) if f[b"doc"] else None,
                    note=f.get(b"note", b"").decode(),
                )
            )
        return out

    async def counter(self) -> int:
        return int(await self.redis.get(self._counter) or 0)

    async def load(
        self,
        docs: Mapping[str, T],
        current: Mapping[str, tuple[int, T]],
        *,
        by: str,
        at: datetime,
        note: str,
    ) -> list[str]:
        """Write the documents that differ from `current` (what is stored now), each on
        the version it differs from; the ids written."""
        changed = []
        for doc_id, doc in docs.items():
            stored = current.get(doc_id)
            if stored is not None and stored[1] == doc:
                continue
            expected = stored[0] if stored else 0
            await self.put(doc_id, doc, expected=expected, by=by, at=at, note=note)
            changed.append(doc_id)
        return changed
