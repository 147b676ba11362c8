"""Every Redis key name followsun uses, in one place (like rq's *_KEY_TEMPLATE constants).

All keys share a configurable prefix so several deployments (or test runs) can share one
server without seeing each other's data.
"""

from __future__ import annotations

import hashlib


class Keys:
    __slots__ = ("prefix",)

    def __init__(self, prefix: str = "fs") -> None:
        self.prefix = prefix

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # teams
    def team(self, team_id: str) -> str:
        """Hash {v: version, doc: TeamSpec msgpack, by: who, at: when}."""
        return self._k("team", team_id)

    @property
    def teams(self) -> str:
        """Set of team ids."""
        return self._k("teams")

    def team_revisions(self, team_id: str) -> str:
        """Stream of a team's schedule revisions (who changed what)."""
        return self._k("team", team_id, "revisions")

    # the policy
    @property
    def policy(self) -> str:
        """Hash {v: version, doc: Policy msgpack}: the policy every process routes by."""
        return self._k("policy")

    @property
    def policy_revisions(self) -> str:
        """Stream of the policy's revisions (who changed what)."""
        return self._k("policy", "revisions")

    @property
    def schedules_rev(self) -> str:
        """Counter bumped on every team and policy change, so processes know to reload."""
        return self._k("schedules", "rev")

    # cases
    def case(self, case_id: str) -> str:
        """Hash {v: version, doc: Case msgpack}."""
        return self._k("case", case_id)

    @property
    def cases(self) -> str:
        """Sorted set of every case id by creation time (listing, paging)."""
        return self._k("cases")

    def by(self, field: str, value: str) -> str:
        """Sorted set of case ids by creation time, for one value of a listing filter."""
        return self._k("cases", field, value)

    @property
    def waiting(self) -> str:
        """Sorted set: waiting case id by the instant its team comes on shift."""
        return self._k("waiting")

    @property
    def unroutable(self) -> str:
        """Sorted set of cases no team could take (an operations alert)."""
        return self._k("unroutable")

    def team_open(self, team_id: str) -> str:
        """Set of the open case ids a team holds."""
        return self._k("team", team_id, "open")

    @property
    def deadlines(self) -> str:
        """Sorted set: case id by its next deadline (epoch seconds)."""
        return self._k("deadlines")

    def idempotency(self, source: str, external_id: str) -> str:
        digest = hashlib.sha256(f"{source}\x00{external_id}".encode()).hexdigest()[:32]
        return self._k("idem", digest)

    def case_events(self, case_id: str) -> str:
        return self._k("case", case_id, "events")

    @property
    def events(self) -> str:
        """The global audit stream."""
        return self._k("events")

    def facts(self, day: str) -> str:
        """Hash: case id -> its summary facts, for the cases created on one UTC day
        (`YYYYMMDD`); the record's format is in store/facts.py."""
        return self._k("facts", day)

    # customers and their personal data (store/customers.py)
    def customer_cases(self, customer_id: str) -> str:
        """Set of a customer's case ids, kept by the case commit script; named by a digest
        of the customer's id, so no key name carries it."""
        digest = hashlib.sha256(f"customer\x00{customer_id}".encode()).hexdigest()[:32]
        return self._k("customer", digest, "cases")

    @property
    def customers_indexed(self) -> str:
        """String set once every case created before the customer index is in it."""
        return self._k("customers", "indexed")

    @property
    def anonymised(self) -> str:
        """Hash: case id -> `<why> <epoch>`: the case's personal data went (retention or
        erasure); its status links answer 410 Gone."""
        return self._k("anonymised")

    # handovers, notifications, jobs
    def case_handovers(self, case_id: str) -> str:
        """List of the handover packets a case has had, oldest first."""
        return self._k("case", case_id, "handovers")

    def team_received(self, team_id: str) -> str:
        """Stream of the handover packets a team received."""
        return self._k("team", team_id, "received")

    @property
    def outbox(self) -> str:
        """Stream of messages to deliver (customer updates, team and ops notifications)."""
        return self._k("outbox")

    def case_updates(self, case_id: str) -> str:
        """Hash: outbox key -> the customer update as sent (rendered, in their language)."""
        return self._k("case", case_id, "updates")

    @property
    def dead_letters(self) -> str:
        """Hash: delivery job id -> a message that failed its last attempt."""
        return self._k("outbox", "dead")

    @property
    def alerts(self) -> str:
        """Stream of operations alerts (unroutable cases, overdue updates)."""
        return self._k("alerts")

    @property
    def pending_handovers(self) -> str:
        """Set of `team|epoch` handovers started and not yet finished (catch-up reruns them)."""
        return self._k("handovers", "pending")

    @property
    def handover_mark(self) -> str:
        """Epoch seconds up to which every shift end has been handed over."""
        return self._k("handovers", "mark")

    @property
    def cron_leader(self) -> str:
        """String `host:pid:nonce` of the worker whose lease runs the periodic jobs (it
        expires unless renewed: store/leader.py)."""
        return self._k("cron", "leader")

    @property
    def queue(self) -> str:
        """The RQ queue name of this deployment (the prefix keeps test runs apart)."""
        return f"{self.prefix}-jobs"

    # API keys and rate limits (store/tokens.py, store/ratelimits.py)
    @property
    def api_keys(self) -> str:
        """Hash: key id -> ApiKey msgpack, every key `followsun token` issued (never a token)."""
        return self._k("apikeys")

    def revoked_key(self, key_id: str) -> str:
        """String "1" while a revoked key's token could still verify (it expires with the
        token): the one lookup every authenticated request makes."""
        return self._k("apikeys", "revoked", key_id)

    @property
    def rate_limits(self) -> str:
        """Namespace of Litestar's RedisStore for rate limits: `<this>:<class>:<who>`, an
        integer counter of one window's requests that expires with the window."""
        return self._k("ratelimit")
