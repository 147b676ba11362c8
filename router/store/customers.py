"""Where a customer's personal data lives, and taking it out one case at a time.

Every place a case's customer data is written (all of it by the case commit script,
`cases.py`, except the updates as sent and the dead letters, `outbox.py`):

    case:<id>                   the document: name, e-mail, summary, steps, impact,
                                help needed, notes, resolution, feedback comment
    case:<id>:events, events    the audit entries (notes, resolution, comment as detail)
    case:<id>:handovers         the handover packets (summary, steps, name, notes)
    team:<t>:received           the same packets, per receiving team
    outbox                      customer updates before rendering (the name)
    case:<id>:updates           customer updates as sent (rendered: name, link)
    outbox:dead                 dead letters (the webhook JSON, the e-mail with the address)
    facts:<day>                 report facts (the customer id, the summary's words)
    idem:<digest>               the helpdesk ticket -> case
    customer:<digest>:cases     this index: a customer's cases
    RQ jobs of the deliveries   the same JSON and e-mail (services.customers deletes them)

`anonymise` writes one case's anonymised copy of all of it in one Lua script with a
version check: the document one version on, the case's event stream rebuilt under its
original entry ids, the packets list rewritten, entries of the shared streams replaced
(`events`, `team:<t>:received`: deleted and written again, anonymised, at the stream's
end; `outbox`: deleted), the updates as sent and the case's customer dead letters
deleted, the facts record rewritten, the idempotency key dropped, and the case marked in
`anonymised` (the status page answers 410 for it). A crash leaves the old state or the new
one; a second run finds the entries already gone and writes nothing twice.

Finding a case's entries in the shared streams reads them from the case's first write on
(every entry of a case is written by a commit at or after its first): one pass over each
stream serves a whole batch of cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
from redis.asyncio import Redis

from ..domain.case import Case, CaseEvent
from ..domain.delivery import DeadLetter, Delivered
from ..domain.facts import Facts
from ..domain.handover import Outbox, Packet
from ..domain.personal import customer_message
from .cases import _pack
from .codec import decode, encode
from .facts import _bucket
from .keys import Keys

__all__ = ["CustomerStore", "Holdings", "Rewrite"]

_CHUNK = 1000
_FACTS = msgspec.json.Decoder(Facts)

# ARGV[1]: case key, expected version, new version, document, case id, marks key, mark,
# number of operations, then (verb, key, a, b) per operation (see the module docstring).
# Answers 1 written, {0, current version} when the case moved on (nothing written).
_ANONYMISE = """
local blob = ARGV[1]
local pos = 1
local function nxt() local v; v, pos = struct.unpack('>I4c0', blob, pos); return v end
local key, expected, version, doc, id, marks, mark = nxt(), nxt(), nxt(), nxt(), nxt(), nxt(), nxt()
local nops = tonumber(nxt())
local cur = redis.call('HGET', key, 'v') or '0'
if cur ~= expected then return {0, cur} end
redis.call('HSET', key, 'v', version, 'doc', doc)
redis.call('HSET', marks, id, mark)
for _ = 1, nops do
  local verb, k, a, b = nxt(), nxt(), nxt(), nxt()
  if verb == 'del' then redis.call('DEL', k)
  elseif verb == 'xaddid' then redis.call('XADD', k, a, 'case', id, 'e', b)
  elseif verb == 'rpush' then redis.call('RPUSH', k, a)
  elseif verb == 'xrepl' then
    if redis.call('XDEL', k, a) == 1 and b ~= '' then
      redis.call('XADD', k, '*', 'case', id, 'e', b)
    end
  elseif verb == 'hdel' then redis.call('HDEL', k, a)
  elseif verb == 'hset' then redis.call('HSET', k, a, b)
  elseif verb == 'delif' then
    if redis.call('GET', k) == a then redis.call('DEL', k) end
  end
end
return 1
"""


class Holdings(msgspec.Struct, kw_only=True):
    """Everything stored about one case, with where each piece sits (stream entry ids)."""

    case: Case
    events: list[tuple[str, CaseEvent]] = []  # the case's own stream
    packets: list[Packet] = []
    updates: list[Delivered] = []
    facts: Facts | None = None
    audit: list[tuple[str, CaseEvent]] = []  # the global audit stream
    received: list[tuple[str, str, Packet]] = []  # (team, entry id, packet)
    outbox: list[tuple[str, Outbox]] = []
    letters: list[DeadLetter] = []

    def message_keys(self) -> set[str]:
        """The keys of the case's customer updates: their deliveries' job ids come from them."""
        keys = {m.key for _, m in self.outbox} | {u.key for u in self.updates}
        keys |= {d.key for d in self.letters}
        return {k for k in keys if customer_message(k)}


class Rewrite(msgspec.Struct, frozen=True, kw_only=True):
    """What `anonymise` writes for one case: `old` is what was read (the version check)."""

    old: Holdings
    case: Case
    events: list[CaseEvent]  # in the order of old.events
    packets: list[Packet]
    audit: list[CaseEvent]  # in the order of old.audit
    received: list[Packet]  # in the order of old.received
    facts: Facts | None
    mark: str


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class CustomerStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis, self.keys = redis, keys
        self._anonymise = redis.register_script(_ANONYMISE)

    # -- the customer index ------------------------------------------------------------

    async def case_ids(self, customer_id: str) -> list[str]:
        """The ids of the cases whose document names `customer_id` (the index, filled in
        for older cases first if it has not been yet)."""
        if not await self.redis.exists(self.keys.customers_indexed):
            await self.backfill()
        raw = await self.redis.smembers(self.keys.customer_cases(customer_id))
        return sorted(_text(m) for m in raw)

    async def backfill(self) -> int:
        """Put every stored case into the customer index (the cases created before it
        existed); idempotent. Reads every case document once, a thousand at a time."""
        count, start = 0, 0
        while ids := await self.redis.zrange(self.keys.cases, start, start + _CHUNK - 1):
            start += _CHUNK
            pipe = self.redis.pipeline(transaction=False)
            for raw in ids:
                pipe.hget(self.keys.case(_text(raw)), "doc")
            writes = self.redis.pipeline(transaction=False)
            for doc in await pipe.execute():
                if doc:
                    case = decode(doc, Case)
                    if case.escalation.customer.id:
                        writes.sadd(self.keys.customer_cases(case.escalation.customer.id), case.id)
                        count += 1
            await writes.execute()
        await self.redis.set(self.keys.customers_indexed, "1")
        return count

    async def forget(self, customer_id: str, audit: CaseEvent) -> None:
        """The customer's index entry goes, and one audit event says so, in one step."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.customer_cases(customer_id))
        pipe.xadd(self.keys.events, {"case": audit.case, "e": encode(audit)})
        await pipe.execute()

    # -- what is marked ----------------------------------------------------------------

    async def marked(self, case_id: str) -> str | None:
        """Why a case's personal data went ("retention" or "erasure"), or None."""
        raw = await self.redis.hget(self.keys.anonymised, case_id)
        return _text(raw).split(" ")[0] if raw else None

    async def unmarked(self, case_ids: Sequence[str]) -> list[str]:
        if not case_ids:
            return []
        marks = await self.redis.hmget(self.keys.anonymised, list(case_ids))
        return [cid for cid, mark in zip(case_ids, marks, strict=True) if mark is None]

    async def created_before(
        self, status: str, before: datetime, offset: int, count: int
    ) -> list[str]:
        """Cases in `status` created before `before`, oldest first (retention's candidates)."""
        raw = await self.redis.zrangebyscore(
            self.keys.by("status", status), "-inf", before.timestamp(), start=offset, num=count
        )
        return [_text(m) for m in raw]

    # -- reading it all ----------------------------------------------------------------

    async def holdings(self, case_ids: Sequence[str]) -> list[Holdings]:
        """Everything stored about each case (cases that do not exist are left out)."""
        k = self.keys
        pipe = self.redis.pipeline(transaction=False)
        for cid in case_ids:
            pipe.hget(k.case(cid), "doc")
            pipe.xrange(k.case_events(cid))
            pipe.lrange(k.case_handovers(cid), 0, -1)
            pipe.hvals(k.case_updates(cid))
        answers = await pipe.execute()
        out: dict[str, Holdings] = {}
        for n in range(0, len(answers), 4):
            doc, entries, packets, updates = answers[n : n + 4]
            if not doc:
                continue
            case = decode(doc, Case)
            out[case.id] = Holdings(
                case=case,
                events=[(_text(i), decode(f[b"e"], CaseEvent)) for i, f in entries],
                packets=[decode(p, Packet) for p in packets],
                updates=sorted((decode(u, Delivered) for u in updates), key=Delivered.order),
            )
        await self._facts(out)
        await self._shared(out)
        return [out[cid] for cid in case_ids if cid in out]

    async def _facts(self, held: dict[str, Holdings]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for h in held.values():
            pipe.hget(self.keys.facts(_bucket(h.case.created_at)), h.case.id)
        for h, raw in zip(held.values(), await pipe.execute(), strict=True):
            h.facts = _FACTS.decode(raw) if raw else None

    async def _shared(self, held: dict[str, Holdings]) -> None:
        """The cases' entries in the shared streams, and their dead letters."""
        firsts = [h.events[0][0] for h in held.values() if h.events]
        if not firsts:
            return
        start = min(firsts, key=lambda i: tuple(map(int, i.split("-"))))
        k = self.keys
        for entry, fields in await self._scan(k.events, start, held):
            held[_text(fields[b"case"])].audit.append((entry, decode(fields[b"e"], CaseEvent)))
        for entry, fields in await self._scan(k.outbox, start, held):
            held[_text(fields[b"case"])].outbox.append((entry, decode(fields[b"e"], Outbox)))
        teams = sorted({p.to_team for h in held.values() for p in h.packets if p.to_team})
        for team in teams:
            for entry, fields in await self._scan(k.team_received(team), start, held):
                packet = decode(fields[b"e"], Packet)
                held[_text(fields[b"case"])].received.append((team, entry, packet))
        for raw in (await self.redis.hgetall(k.dead_letters)).values():
            letter = decode(raw, DeadLetter)
            case_id = letter.key.split(":")[0]
            if case_id in held:
                held[case_id].letters.append(letter)

    async def _scan(
        self, key: str, start: str, held: dict[str, Holdings]
    ) -> list[tuple[str, dict[bytes, bytes]]]:
        """The entries of stream `key` from `start` on that belong to the cases in `held`."""
        wanted = {cid.encode() for cid in held}
        found: list[tuple[str, dict[bytes, bytes]]] = []
        low = start
        while entries := await self.redis.xrange(key, min=low, count=_CHUNK):
            found += [(_text(i), f) for i, f in entries if f.get(b"case") in wanted]
            low = "(" + _text(entries[-1][0])
        return found

    # -- writing it back anonymised ----------------------------------------------------

    async def anonymise(self, rewrite: Rewrite) -> bool:
        """Write one case's anonymised copy (see the module docstring); False, having
        written nothing, when the case changed since it was read."""
        k, old, new = self.keys, rewrite.old, rewrite.case
        cid = new.id
        ops: list[str | bytes] = ["del", k.case_events(cid), "", ""]
        for (entry, _), event in zip(old.events, rewrite.events, strict=True):
            ops += ("xaddid", k.case_events(cid), entry, encode(event))
        ops += ("del", k.case_handovers(cid), "", "")
        for packet in rewrite.packets:
            ops += ("rpush", k.case_handovers(cid), encode(packet), "")
        for (entry, before), event in zip(old.audit, rewrite.audit, strict=True):
            if event != before:
                ops += ("xrepl", k.events, entry, encode(event))
        for (team, entry, before), packet in zip(old.received, rewrite.received, strict=True):
            if packet != before:
                ops += ("xrepl", k.team_received(team), entry, encode(packet))
        for entry, msg in old.outbox:
            if msg.audience == "customer":
                ops += ("xrepl", k.outbox, entry, "")
        ops += ("del", k.case_updates(cid), "", "")
        for letter in old.letters:
            if customer_message(letter.key):
                ops += ("hdel", k.dead_letters, letter.id, "")
        if rewrite.facts is not None and rewrite.facts != old.facts:
            record = msgspec.json.encode(rewrite.facts)
            ops += ("hset", k.facts(_bucket(new.created_at)), cid, record)
        esc = old.case.escalation
        if esc.external_id and esc.source and not new.escalation.external_id:
            ops += ("delif", k.idempotency(esc.source, esc.external_id), cid, "")
        head = [k.case(cid), old.case.version, new.version, encode(new), cid]
        blob = _pack([*head, k.anonymised, rewrite.mark, len(ops) // 4, *ops])
        result = await self._anonymise(keys=[], args=[blob])
        return bool(result == 1)
