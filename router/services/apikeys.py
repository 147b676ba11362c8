"""Issuing, listing and revoking API keys (router.domain.apikeys): what `followsun token`
and `/v1/keys` call. A key is recorded before its token is handed out, so every token that
leaves `followsun token` can be listed and revoked."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain.apikeys import ApiKey, check_scope
from ..domain.errors import InputError, NotFound
from ..http.auth import make_token, new_key_id
from ..store.tokens import ApiKeyStore

__all__ = ["ApiKeyService"]

KEEP_EXPIRED = timedelta(days=30)  # an expired key's record stays listable this long
MAX_LABEL = 200


class ApiKeyService:
    def __init__(self, store: ApiKeyStore, secret: str) -> None:
        self.store = store
        self._secret = secret

    async def issue(
        self,
        *,
        role: str,
        team: str | None = None,
        read_only: bool = False,
        ttl: timedelta,
        label: str = "",
        by: str,
        now: datetime,
    ) -> tuple[ApiKey, str]:
        """Record a new key and sign its token: (the record, the token, shown only now)."""
        check_scope(role, team)
        if ttl <= timedelta(0):
            raise InputError("ttl", "must be positive")
        if len(label) > MAX_LABEL:
            raise InputError("label", f"at most {MAX_LABEL} characters")
        key = ApiKey(
            id=new_key_id(),
            role=role,  # type: ignore[arg-type]  # checked by check_scope
            team=team or None,
            read_only=read_only,
            label=label,
            created_at=now,
            expires_at=(now + ttl).replace(microsecond=0),  # a JWT's exp is whole seconds
            created_by=by,
        )
        await self.store.add(key)
        token = make_token(
            self._secret, role, team, key_id=key.id, read_only=read_only, expires=key.expires_at
        )
        return key, token

    async def listing(self, now: datetime, *, everything: bool = False) -> list[ApiKey]:
        """The active keys, oldest first (`everything`: revoked and expired ones too). Keys
        expired for more than KEEP_EXPIRED are forgotten on the way."""
        keys = await self.store.all()
        stale = [k.id for k in keys if k.expires_at + KEEP_EXPIRED < now]
        await self.store.forget(stale)
        keys = [k for k in keys if k.id not in stale]
        return keys if everything else [k for k in keys if k.status(now) == "active"]

    async def revoke(self, key_id: str, *, by: str, now: datetime) -> ApiKey:
        """Revoke a key: its token is refused from now on, by every process."""
        key = await self.store.revoke(key_id, at=now, by=by)
        if key is None:
            raise NotFound("key", key_id)
        return key

    async def revoked(self, key_id: str) -> bool:
        return await self.store.revoked(key_id)
