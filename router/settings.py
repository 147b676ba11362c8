"""Configuration: one typed object, read once from the environment at the edge."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import msgspec

from .domain.errors import InputError

__all__ = ["Settings"]

_PREFIX = "FOLLOWSUN_"
_DEFAULT_LISTENER = "http://127.0.0.1:8000"  # `followsun serve` with no --host/--port
_SENTINEL_SCHEME = "redis+sentinel://"  # see store/client.py


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    schedules: Path = Path("schedules")
    data: Path = Path("var")
    redis_url: str | None = None
    key_prefix: str = "fs"
    secret: str = ""
    public_url: str = ""  # base of status and console links; unset: where the web process listens
    webhooks: str = ""  # comma-separated URLs that receive every outbox message
    webhook_secret: str = ""  # HMAC key for webhook signatures (default: secret)
    smtp_url: str = ""  # smtp[s]://user:pass@host:port[?starttls=1&cafile=PEM] (services.mail)
    mail_from: str = ""  # the From: of followsun's e-mail, "Support <help@example.com>"
    status_link_days: int = 30
    zendesk_secret: str = ""  # verifies POST /v1/intake/zendesk (the webhook's signing secret)
    freshdesk_secret: str = ""  # X-Followsun-Intake-Secret of POST /v1/intake/freshdesk
    jsm_secret: str = ""  # X-Followsun-Intake-Secret of POST /v1/intake/jsm
    # a request body larger than this is refused with 413 (before the handler reads it)
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 256 * 1024
    # requests per window ("600/minute", unit second|minute|hour|day; "off": no limit),
    # counted in the store for every web process together (router.http.ratelimit)
    rate_limit: str = "600/minute"  # per API key
    rate_limit_intake: str = "6000/minute"  # per intake key, and per helpdesk webhook sender
    rate_limit_anonymous: str = "300/minute"  # per client IP without a key (pages, sign-in)
    trusted_proxies: str = ""  # comma-separated IPs/networks whose X-Forwarded-For is believed
    min_replicas: int | None = None  # replicas a case write waits for (WAIT); None: 1 via Sentinel
    leader_ttl: float = 15.0  # seconds the cron leader's lease outlives its last renewal

    def link_base(self) -> str:
        """The base of the links followsun hands out (status pages, console)."""
        return (self.public_url or _DEFAULT_LISTENER).rstrip("/")

    def listening_on(self, host: str, port: int) -> Settings:
        """These settings for a web process bound to host:port: without FOLLOWSUN_PUBLIC_URL,
        links point where it listens (a wildcard bind: this machine's name)."""
        if self.public_url:
            return self
        if host in ("0.0.0.0", "::", ""):
            host = socket.getfqdn()
        host = f"[{host}]" if ":" in host else host
        return msgspec.structs.replace(self, public_url=f"http://{host}:{port}")

    def intake_secrets(self) -> dict[str, str]:
        """Helpdesk -> the secret its intake requests are checked with ('' refuses them)."""
        return {
            "zendesk": self.zendesk_secret,
            "freshdesk": self.freshdesk_secret,
            "jsm": self.jsm_secret,
        }

    def replicas(self) -> int:
        """How many replicas must hold a case write before the API acknowledges it: 1
        behind Sentinel (a failover promotes a replica, which then has every 201), else 0."""
        if self.min_replicas is not None:
            return self.min_replicas
        return 1 if (self.redis_url or "").startswith(_SENTINEL_SCHEME) else 0

    def webhook_urls(self) -> list[str]:
        return [u.strip() for u in self.webhooks.split(",") if u.strip()]

    def environ(self) -> dict[str, str]:
        """These settings as the environment a child process reads them back from (the
        inverse of `from_env`): how `up` and a multi-worker `serve` hand them on."""
        env = {
            _PREFIX + name.upper(): str(getattr(self, name))
            for name in self.__struct_fields__
            if getattr(self, name) is not None
        }
        env.pop(_PREFIX + "REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from FOLLOWSUN_* variables (and REDIS_URL), converted and checked by msgspec."""
        env = os.environ if environ is None else environ
        values: dict[str, str] = {
            k[len(_PREFIX) :].lower(): v
            for k, v in env.items()
            if k.startswith(_PREFIX) and k[len(_PREFIX) :].lower() in cls.__struct_fields__
        }
        if env.get("REDIS_URL"):
            values["redis_url"] = env["REDIS_URL"]
        if env.get("REDIS_SENTINELS"):  # wins over REDIS_URL
            master = env.get("REDIS_SENTINEL_MASTER")
            values["redis_url"] = _sentinel_url(env["REDIS_SENTINELS"], master)
        try:
            return msgspec.convert(values, cls, strict=False, dec_hook=_paths)
        except msgspec.ValidationError as err:  # "Expected `int`, got `str` - at `$.port`"
            text, _, where = str(err).partition(" - at `$.")
            name = f"FOLLOWSUN_{where.rstrip('`').upper()}" if where else "environment"
            raise InputError(name, text) from None


def _sentinel_url(sentinels: str, master: str | None) -> str:
    """REDIS_SENTINELS=host:port,... and REDIS_SENTINEL_MASTER as one address, the form
    `store.client` connects to (and a child process reads back from REDIS_URL)."""
    hosts = [h.strip() for h in sentinels.split(",") if h.strip()]
    for host in hosts:
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise InputError("REDIS_SENTINELS", f'"{host}" is not host:port')
    if not (master or "").strip():
        raise InputError("REDIS_SENTINEL_MASTER", "required with REDIS_SENTINELS")
    return f"{_SENTINEL_SCHEME}{','.join(hosts)}/{(master or '').strip()}"


def _paths(type_: type, value: object) -> object:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(type_)
