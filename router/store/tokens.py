"""The record of API keys (router.domain.apikeys) and the revocation mark every request reads.

Layout (names in keys.py): one hash, `apikeys`, key id -> ApiKey as MessagePack, for
listing and revoking (a few hundred keys at most: read whole); and per revoked key a string
`apikeys:revoked:<id>` that expires a minute after the key's token does. The request path
reads only the latter, with one EXISTS: no decoding, and no growing set to search, since a
mark lasts only as long as its token could still verify.

Revoking writes the record and the mark in one MULTI, so no process sees one without the
other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from redis.asyncio import Redis

from ..domain.apikeys import ApiKey
from .codec import decode, encode
from .keys import Keys

__all__ = ["ApiKeyStore"]

_MARGIN = timedelta(minutes=1)  # a mark outlives its token by this much (clock skew)


class ApiKeyStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def add(self, key: ApiKey) -> None:
        await self._redis.hset(self._keys.api_keys, key.id, encode(key))

    async def get(self, key_id: str) -> ApiKey | None:
        raw = await self._redis.hget(self._keys.api_keys, key_id)
        return decode(raw, ApiKey) if raw is not None else None

    async def all(self) -> list[ApiKey]:
        """Every recorded key, oldest first."""
        raw = await self._redis.hgetall(self._keys.api_keys)
        return sorted((decode(v, ApiKey) for v in raw.values()), key=lambda k: k.created_at)

    async def revoke(self, key_id: str, *, at: datetime, by: str) -> ApiKey | None:
        """Mark the key revoked (the record, and the mark requests read); None if no such
        key. Revoking it again changes nothing and answers the first revocation."""
        key = await self.get(key_id)
        if key is None or key.revoked_at is not None:
            return key
        key = msgspec.structs.replace(key, revoked_at=at, revoked_by=by)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(self._keys.api_keys, key_id, encode(key))
        until = key.expires_at + _MARGIN
        if until > at:  # a token past its expiry fails verification anyway
            pipe.set(self._keys.revoked_key(key_id), b"1", pxat=int(until.timestamp() * 1000))
        await pipe.execute()
        return key

    async def revoked(self, key_id: str) -> bool:
        """Whether a token with this key id must be refused (the request path's one read)."""
        return bool(await self._redis.exists(self._keys.revoked_key(key_id)))

    async def forget(self, key_ids: list[str]) -> None:
        """Drop records (keys long expired); their marks expire by themselves."""
        if key_ids:
            await self._redis.hdel(self._keys.api_keys, *key_ids)
