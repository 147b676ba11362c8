"""Cases in Redis: every change to a case and its indexes is one Lua script with a version check.

A case is a hash {v, doc}. The script checks the stored version, writes the new document,
moves the case between index keys (team's open set, waiting and unroutable sets, the
deadline and listing sorted sets), appends the audit event to the case's stream and the
global one, and for a new case claims the idempotency key, all in one atomic step. A
crash leaves either the old state or the new one; two writers with the same version can
never both win.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from redis.asyncio import Redis

from ..domain.case import Case, CaseEvent
from ..domain.errors import FollowsunError, InputError
from ..domain.handover import Outbox, Packet
from .batching import ScriptBatcher
from .codec import decode, encode
from .keys import Keys

__all__ = ["CaseStore", "Change", "Created", "Existing", "VersionConflict", "new_case_id"]

# Applies one index/stream operation for case `id`; shared by both commit scripts.
_APPLY = """
local function apply(verb, key, arg, id)
  if verb == 'sadd' then redis.call('SADD', key, id)
  elseif verb == 'srem' then redis.call('SREM', key, id)
  elseif verb == 'zadd' then redis.call('ZADD', key, arg, id)
  elseif verb == 'zrem' then redis.call('ZREM', key, id)
  elseif verb == 'xadd' then redis.call('XADD', key, '*', 'case', id, 'e', arg)
  elseif verb == 'set' then redis.call('SET', key, arg)
  elseif verb == 'rpush' then redis.call('RPUSH', key, arg)
  end
end
"""

_COMMIT = (
    _APPLY
    + """
local cur = redis.call('HGET', KEYS[1], 'v') or '0'
if ARGV[5] == '1' then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {2, existing} end
end
if cur ~= ARGV[1] then return {0, cur} end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'doc', ARGV[3])
if ARGV[5] == '1' then redis.call('SET', KEYS[2], ARGV[4]) end
local i = 7
for _ = 1, tonumber(ARGV[6]) do
  apply(ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[4])
  i = i + 3
end
return {1, ARGV[2]}
"""
)

# Many cases in one call, each with its own version check (a bulk handover). Every ARGV
# is one case: length-prefixed fields (see `_pack`) [case key, expected version, new
# version, doc, id, number of ops, then verb, key, arg per op]. The keys travel inside
# the arguments, so this is for a standalone server, not a cluster.
_COMMIT_MANY = (
    _APPLY
    + """
local results = {}
for n, blob in ipairs(ARGV) do
  local pos = 1
  local function nxt() local v; v, pos = struct.unpack('>I4c0', blob, pos); return v end
  local key, expected, version, doc, id = nxt(), nxt(), nxt(), nxt(), nxt()
  local nops = tonumber(nxt())
  if (redis.call('HGET', key, 'v') or '0') ~= expected then
    results[n] = 0
  else
    redis.call('HSET', key, 'v', version, 'doc', doc)
    for _ = 1, nops do apply(nxt(), nxt(), nxt(), id) end
    results[n] = 1
  end
end
return results
"""
)


def _pack(fields: Sequence[str | bytes | int]) -> bytes:
    """Length-prefixed fields, read back in Lua with struct.unpack('>I4c0')."""
    out = bytearray()
    for field in fields:
        data = field if isinstance(field, bytes) else str(field).encode()
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


_PREPARE = """
local out = {redis.call('GET', KEYS[1]) or '0'}
for i = 2, #KEYS do out[i] = redis.call('SCARD', KEYS[i]) end
return out
"""

_HELD = ("assigned", "acknowledged")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class VersionConflict(FollowsunError):
    """Someone else changed the case first (HTTP 409 at the edge); nothing was written."""

    def __init__(self, case_id: str, expected: int, found: int) -> None:
        super().__init__(f"case {case_id} is at version {found}, not {expected}")
        self.case_id, self.expected, self.found = case_id, expected, found


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
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"C-{head[:5]}{head[5:]}-{tail}"


class CaseStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis, self.keys = redis, keys
        self._commit = redis.register_script(_COMMIT)
        self._prepare = redis.register_script(_PREPARE)
        self._batched = ScriptBatcher(redis, self._commit)
        self._commit_many = redis.register_script(_COMMIT_MANY)

    def _index_ops(self, old: Case | None, new: Case) -> list[tuple[str, str, str]]:
        k = self.keys
        ops: list[tuple[str, str, str]] = []

        def member(case: Case) -> dict[str, str]:
            """index key -> score ('' for sets) the case belongs to."""
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

        before = member(old) if old else {}
        after = member(new)
        for key, score in before.items():
            if key not in after:
                ops.append(("zrem" if score else "srem", key, ""))
        for key, score in after.items():
            if before.get(key) != score or key not in before:
                ops.append(("zadd" if score else "sadd", key, score))
        return ops

    def _ops(
        self,
        old: Case | None,
        new: Case,
        events: Sequence[CaseEvent],
        packets: Sequence[Packet],
        outbox: Sequence[Outbox],
    ) -> list[tuple[str, str, str | bytes]]:
        ops: list[tuple[str, str, str | bytes]] = [*self._index_ops(old, new)]
        for event in events:
            payload = encode(event)
            ops.append(("xadd", self.keys.case_events(new.id), payload))
            ops.append(("xadd", self.keys.events, payload))
        for packet in packets:
            payload = encode(packet)
            ops.append(("rpush", self.keys.case_handovers(new.id), payload))
            if packet.to_team:
                ops.append(("xadd", self.keys.team_received(packet.to_team), payload))
        for message in outbox:
            payload = encode(message)
            ops.append(("xadd", self.keys.outbox, payload))
            if message.audience == "ops":
                ops.append(("xadd", self.keys.alerts, payload))
        return ops

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
        ops = self._ops(old, new, events, packets, outbox)
        result = await self._run(new, old.version if old else 0, ops, (), idem=None)
        if result[0] == 0:
            raise VersionConflict(new.id, old.version if old else 0, int(result[1]))
        return new

    async def commit_many(self, changes: Sequence[Change]) -> list[bool]:
        """Many independent commits in one round trip; each is atomic on its own, and the
        answer says which ones won (False: the case had moved on; nothing was written)."""
        if not changes:
            return []
        blobs = []
        for ch in changes:
            ops = self._ops(ch.old, ch.new, ch.events, ch.packets, ch.outbox)
            fields: list[str | bytes | int] = [
                self.keys.case(ch.new.id),
                ch.old.version,
                ch.new.version,
                encode(ch.new),
                ch.new.id,
                len(ops),
            ]
            for op in ops:
                fields.extend(op)
            blobs.append(_pack(fields))
        return [r == 1 for r in await self._commit_many(keys=[], args=blobs)]

    async def create(
        self,
        case: Case,
        event: CaseEvent,
        *,
        source: str,
        external_id: str,
        outbox: Sequence[Outbox] = (),
    ) -> Created | Existing:
        """Store a new case unless (source, external_id) was seen: then name the existing case."""
        idem = self.keys.idempotency(source, external_id) if external_id else None
        ops = self._ops(None, case, [event], (), outbox)
        result = await self._run(case, 0, ops, (), idem=idem)
        if result[0] == 2:
            return Existing(result[1].decode() if isinstance(result[1], bytes) else result[1])
        if result[0] == 0:
            raise VersionConflict(case.id, 0, int(result[1]))
        return Created(case)

    def _script_args(
        self,
        case: Case,
        expected: int,
        ops: Sequence[tuple[str, str, str | bytes]],
        extra: Sequence[tuple[str, str, str | bytes]],
        idem: str | None,
    ) -> tuple[list[str], list[str | bytes | int]]:
        keys = [self.keys.case(case.id), idem or self.keys.case(case.id)]
        argv: list[str | bytes | int] = [
            expected,
            case.version,
            encode(case),
            case.id,
            "1" if idem else "0",
            len(ops) + len(extra),
        ]
        for verb, key, arg in (*ops, *extra):
            keys.append(key)
            argv += [verb, len(keys), arg]
        return keys, argv

    async def _run(
        self,
        case: Case,
        expected: int,
        ops: Sequence[tuple[str, str, str | bytes]],
        extra: Sequence[tuple[str, str, str | bytes]],
        idem: str | None,
    ) -> list[Any]:
        keys, argv = self._script_args(case, expected, ops, extra, idem)
        return await self._batched(keys, argv)

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
        """The latest packets a team received, newest first."""
        entries = await self.redis.xrevrange(self.keys.team_received(team_id), count=count)
        return [decode(f[b"e"], Packet) for _, f in entries]

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
        out = await self._prepare(keys=[self.keys.teams_rev, *map(self.keys.team_open, team_ids)])
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
