"""Cases in Redis: every change to a case and its indexes is one Lua script with a version check.

A case is a hash {v, doc}. The script checks the stored version, writes the new document,
moves the case between index keys (team's open set, waiting and unroutable sets, the
deadline and listing sorted sets), appends the audit event to the case's stream and the
global one, and for a new case claims the idempotency key, all in one atomic step. A
crash leaves either the old state or the new one; two writers with the same version can
never both win.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from datetime import datetime

import msgspec
from redis.asyncio import Redis

from ..domain.case import Case, CaseEvent
from ..domain.errors import InputError, VersionConflict
from ..domain.handover import Outbox, Packet
from .batching import ScriptBatcher
from .codec import decode, encode
from .facts import LUA as FACTS_LUA
from .facts import fact_op
from .keys import Keys

__all__ = ["CaseStore", "Change", "Created", "Existing", "VersionConflict", "new_case_id"]

# Every change to a case, and its indexes, streams and messages, goes through this one
# script. Each ARGV is one case, as length-prefixed fields (see `_pack`): case key,
# expected version, new version, document, id, idempotency key ('' for none), number of
# operations, then verb, key, argument per operation. Each case is checked and written on
# its own: 1 written, {0, current version} conflict, {2, id} the idempotency key
# names an existing case. Several cases per call make a bulk handover (or a busy intake)
# one round trip. The keys travel inside the arguments: a standalone server, not a cluster.
# `facts` folds the change into the case's summary record (store/facts.py).
_COMMIT = (
    FACTS_LUA
    + """
local function apply(verb, key, arg, id)
  if verb == 'sadd' then redis.call('SADD', key, id)
  elseif verb == 'srem' then redis.call('SREM', key, id)
  elseif verb == 'zadd' then redis.call('ZADD', key, arg, id)
  elseif verb == 'zrem' then redis.call('ZREM', key, id)
  elseif verb == 'xadd' then redis.call('XADD', key, '*', 'case', id, 'e', arg)
  elseif verb == 'rpush' then redis.call('RPUSH', key, arg)
  elseif verb == 'facts' then facts(key, id, arg)
  end
end
local results = {}
for n, blob in ipairs(ARGV) do
  local pos = 1
  local function nxt() local v; v, pos = struct.unpack('>I4c0', blob, pos); return v end
  local key, expected, version, doc, id, idem = nxt(), nxt(), nxt(), nxt(), nxt(), nxt()
  local nops = tonumber(nxt())
  local existing = idem ~= '' and redis.call('GET', idem)
  local cur = redis.call('HGET', key, 'v') or '0'
  if existing then
    results[n] = {2, existing}
  elseif cur ~= expected then
    results[n] = {0, cur}
  else
    redis.call('HSET', key, 'v', version, 'doc', doc)
    if idem ~= '' then redis.call('SET', idem, id) end
    for _ = 1, nops do apply(nxt(), nxt(), nxt(), id) end
    results[n] = 1
  end
end
return results
"""
)


_LENGTH = struct.Struct(">I").pack


def _pack(fields: Sequence[str | bytes | int]) -> bytes:
    """Length-prefixed fields, read back in Lua with struct.unpack('>I4c0')."""
    out = bytearray()
    for field in fields:
        data = field if field.__class__ is bytes else str(field).encode()
        out += _LENGTH(len(data))
        out += data
    return bytes(out)


_PREPARE = """
local out = {redis.call('GET', KEYS[1]) or '0'}
for i = 2, #KEYS do out[i] = redis.call('SCARD', KEYS[i]) end
return out
"""

_HELD = ("assigned", "acknowledged")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One case moving from `old` to `new`, with what that move writes beside it."""

    old: Case
    new: Case
    events: list[CaseEvent]
    packets: list[Packet] = []
    outbox: list[Outbox] = []


class Created(msgspec.Struct, frozen=True):
    case: Case


class Existing(msgspec.Struct, frozen=True):
    case_id: str


def new_case_id(now: datetime) -> str:
    """Sortable by creation time, readable over the phone: `C-1M83T4CM0-7HYF2Q`."""
    ms = int(now.timestamp() * 1000)
    head = "".join(_ALPHABET[(ms >> s) & 31] for s in range(40, -1, -5))
    bits = int.from_bytes(os.urandom(4), "big")  # one system call, 30 bits used
    tail = "".join(_ALPHABET[(bits >> s) & 31] for s in range(0, 30, 5))
    return f"C-{head[:5]}{head[5:]}-{tail}"


class CaseStore:
    def __init__(self, redis: Redis, keys: Keys, *, replicas: int = 0) -> None:
        """`replicas`: how many replicas must hold a `commit` or `create` before it returns
        (Redis WAIT, see store/batching.py); 0 with no replicas to wait for."""
        self.redis, self.keys = redis, keys
        self._commit = redis.register_script(_COMMIT)
        self._prepare = redis.register_script(_PREPARE)
        self._batched = ScriptBatcher(self._commit, replicas=replicas)

    def _member(self, case: Case) -> dict[str, str]:
        """The index keys a case belongs to, with its score there ('' for sets)."""
        k = self.keys
        created = f"{case.created_at.timestamp():.3f}"
        keys = {
            k.cases: created,
            k.by("status", case.status): created,
            k.by("lang", case.language): created,
        }
        if case.team:
            keys[k.by("team", case.team)] = created
        if case.status in _HELD and case.team:
            keys[k.team_open(case.team)] = ""
        if case.status == "waiting":
            keys[k.waiting] = f"{(case.decision.starts_at or case.created_at).timestamp():.3f}"
        if case.status == "unroutable":
            keys[k.unroutable] = created
        due = case.next_deadline()
        if due is not None:
            keys[k.deadlines] = f"{due.timestamp():.3f}"
        return keys

    def _blob(
        self,
        old: Case | None,
        new: Case,
        events: Sequence[CaseEvent],
        packets: Sequence[Packet] = (),
        outbox: Sequence[Outbox] = (),
        idem: str = "",
    ) -> bytes:
        """One case's change as the commit script reads it: the document, then every index
        move, audit entry, packet and message as (verb, key, argument)."""
        k = self.keys
        ops: list[str | bytes] = []
        before = self._member(old) if old else {}
        after = self._member(new)
        for key, score in before.items():
            if key not in after:
                ops += ("zrem" if score else "srem", key, "")
        for key, score in after.items():
            if before.get(key) != score:
                ops += ("zadd" if score else "sadd", key, score)
        for event in events:
            payload = encode(event)
            ops += ("xadd", k.case_events(new.id), payload, "xadd", k.events, payload)
        facts = fact_op(k, old, new, events)  # the case's summary record, in the same step
        if facts:
            ops += facts
        if old is None and new.escalation.customer.id:  # the customer index (customers.py)
            ops += ("sadd", k.customer_cases(new.escalation.customer.id), "")
        for packet in packets:
            payload = encode(packet)
            ops += ("rpush", k.case_handovers(new.id), payload)
            if packet.to_team:
                ops += ("xadd", k.team_received(packet.to_team), payload)
        for message in outbox:
            payload = encode(message)
            ops += ("xadd", k.outbox, payload)
            if message.audience == "ops":
                ops += ("xadd", k.alerts, payload)
        head = [k.case(new.id), old.version if old else 0, new.version, encode(new), new.id, idem]
        return _pack([*head, len(ops) // 3, *ops])

    async def commit(
        self,
        old: Case | None,
        new: Case,
        events: Sequence[CaseEvent],
        *,
        packets: Sequence[Packet] = (),
        outbox: Sequence[Outbox] = (),
    ) -> Case:
        """Write `new` (with its events, packets and messages) if the stored version is still
        `old`'s; raise VersionConflict if not, having written nothing."""
        expected = old.version if old else 0
        blob = self._blob(old, new, events, packets, outbox)
        result = await self._batched(blob)
        if result != 1:
            raise VersionConflict(new.id, expected, int(result[1]))
        return new

    async def commit_many(self, changes: Sequence[Change]) -> list[bool]:
        """Many independent commits in one round trip; each is checked and written on its
        own, and the answer says which won (False: the case had moved on; nothing written)."""
        if not changes:
            return []
        blobs = [self._blob(ch.old, ch.new, ch.events, ch.packets, ch.outbox) for ch in changes]
        return [r == 1 for r in await self._commit(keys=[], args=blobs)]

    async def create(
        self,
        case: Case,
        event: CaseEvent,
        *,
        source: str,
        external_id: str,
        outbox: Sequence[Outbox] = (),
        more_events: Sequence[CaseEvent] = (),
    ) -> Created | Existing:
        """Store a new case unless (source, external_id) was seen: then name the existing case.
        `more_events` follow `event` in the same step (a residency crossing, say)."""
        idem = self.keys.idempotency(source, external_id) if external_id else ""
        blob = self._blob(None, case, [event, *more_events], (), outbox, idem)
        result = await self._batched(blob)
        if result == 1:
            return Created(case)
        code, value = result
        if code == 2:
            return Existing(value.decode() if isinstance(value, bytes) else value)
        raise VersionConflict(case.id, 0, int(value))

    async def get(self, case_id: str) -> Case | None:
        doc = await self.redis.hget(self.keys.case(case_id), "doc")
        return decode(doc, Case) if doc else None

    async def get_many(self, ids: Sequence[str]) -> list[Case]:
        if not ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for cid in ids:
            pipe.hget(self.keys.case(cid), "doc")
        return [decode(d, Case) for d in await pipe.execute() if d]

    async def id_for(self, source: str, external_id: str) -> str | None:
        raw = await self.redis.get(self.keys.idempotency(source, external_id))
        return raw.decode() if raw else None

    async def handovers(self, case_id: str) -> list[Packet]:
        return [
            decode(p, Packet)
            for p in await self.redis.lrange(self.keys.case_handovers(case_id), 0, -1)
        ]

    async def received(self, team_id: str, count: int = 100) -> list[Packet]:
        """The latest packets a team received, newest first (by when they were written: a
        packet whose customer data was removed is written again, store/customers.py)."""
        entries = await self.redis.xrevrange(self.keys.team_received(team_id), count=count)
        packets = [decode(f[b"e"], Packet) for _, f in entries]
        return sorted(packets, key=lambda p: p.at, reverse=True)

    async def outbox(self, count: int = 1000) -> list[Outbox]:
        return [
            decode(f[b"e"], Outbox)
            for _, f in await self.redis.xrange(self.keys.outbox, count=count)
        ]

    async def events(self, case_id: str) -> list[CaseEvent]:
        entries = await self.redis.xrange(self.keys.case_events(case_id))
        return [decode(fields[b"e"], CaseEvent) for _, fields in entries]

    async def open_ids(self, team_id: str) -> list[str]:
        return sorted(m.decode() for m in await self.redis.smembers(self.keys.team_open(team_id)))

    async def team_loads(self, team_ids: Sequence[str]) -> dict[str, int]:
        """Open cases per team, in one round trip."""
        out = await self._prepare(
            keys=[self.keys.schedules_rev, *map(self.keys.team_open, team_ids)]
        )
        return dict(zip(team_ids, out[1:], strict=True))

    async def page(
        self,
        *,
        team: str | None = None,
        status: str | None = None,
        language: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[Case], int, str | None]:
        """Cases matching every filter, oldest first; `cursor` continues after the last one seen."""
        k = self.keys
        indexes = [
            k.by(n, v) for n, v in (("team", team), ("status", status), ("lang", language)) if v
        ]
        after: tuple[float, str] | None = None
        if cursor:
            score_text, _, last = cursor.partition(":")
            try:
                after = (float(score_text), last)
            except ValueError:
                raise InputError(
                    "cursor", f'"{cursor}" is not a cursor from this listing'
                ) from None
        if len(indexes) <= 1:
            key = indexes[0] if indexes else k.cases
            total = await self.redis.zcard(key)
            if after:
                # members with equal scores sort by id, so what follows the cursor is
                # everything at its score plus `limit` more
                ties = await self.redis.zcount(key, after[0], after[0])
                members = await self.redis.zrangebyscore(
                    key, after[0], "+inf", start=0, num=limit + 1 + ties, withscores=True
                )
            else:
                members = await self.redis.zrange(key, 0, limit, withscores=True)
        else:
            members = await self.redis.zinter(indexes, withscores=True, aggregate="MAX")
            total = len(members)
        items = sorted(
            ((m.decode() if isinstance(m, bytes) else m, s) for m, s in members),
            key=lambda x: (x[1], x[0]),
        )
        if after:
            items = [(m, s) for m, s in items if (s, m) > (after[0], after[1])]
        page = items[:limit]
        more = len(items) > limit
        cases = await self.get_many([m for m, _ in page])
        nxt = f"{page[-1][1]:.3f}:{page[-1][0]}" if more and page else None
        return cases, total, nxt
