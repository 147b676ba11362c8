"""Configuration: one typed object, read once from the environment at the edge."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path

import msgspec

from .domain.errors import InputError

__all__ = ["Settings"]

_PREFIX = "FOLLOWSUN_"
_DEFAULT_LISTENER = "http://127.0.0.1:8000"  # `followsun serve` with no --host/--port


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

    def webhook_urls(self) -> list[str]:
        return [u.strip() for u in self.webhooks.split(",") if u.strip()]

    def environ(self) -> dict[str, str]:
        """These settings as the environment a child process reads them back from (the
        inverse of `from_env`): how `up` and a multi-worker `serve` hand them on."""
        env = {_PREFIX + name.upper(): str(getattr(self, name)) for name in self.__struct_fields__}
        del env[_PREFIX + "REDIS_URL"]
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
        try:
            return msgspec.convert(values, cls, strict=False, dec_hook=_paths)
        except msgspec.ValidationError as err:  # "Expected `int`, got `str` - at `$.port`"
            text, _, where = str(err).partition(" - at `$.")
            name = f"FOLLOWSUN_{where.rstrip('`').upper()}" if where else "environment"
            raise InputError(name, text) from None


def _paths(type_: type, value: object) -> object:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(type_)
