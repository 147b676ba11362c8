"""Reading a test deployment's whole keyspace for a person's data, however it is stored.

Every key under the test's prefix and every RQ key of its queue and jobs is read whole
(strings, hashes, lists, sets, sorted sets, streams, with key names and field names),
and each value is opened the ways followsun and RQ write it: RQ's zlib-compressed pickles
(job data, exception text), MessagePack and JSON documents, base64 (dead letters keep
bytes that way; e-mail parts are base64), and e-mail messages (RFC 2047 encoded-word
headers, base64 bodies). A needle found in any of these forms is found.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email
import email.policy
import json
import pickle
import re
import zlib
from collections.abc import Iterator
from typing import Any

import msgspec
import redis as redis_sync

_BASE64 = re.compile(rb"^[A-Za-z0-9+/=\r\n]{16,}$")


def keys_of(conn: redis_sync.Redis, prefix: str) -> list[bytes]:
    """Every key of the deployment: its own, and RQ's for its queue and jobs."""
    own = set(conn.scan_iter(f"{prefix}:*", count=1000))
    own |= set(conn.scan_iter(f"rq:*{prefix}*", count=1000))
    return sorted(own)


def raw_values(conn: redis_sync.Redis, key: bytes) -> list[bytes]:
    """The key's name and all it holds, as bytes."""
    kind = conn.type(key).decode()
    out: list[Any] = [key]
    if kind == "string":
        out.append(conn.get(key))
    elif kind == "hash":
        for field, value in conn.hgetall(key).items():
            out += [field, value]
    elif kind == "list":
        out += conn.lrange(key, 0, -1)
    elif kind == "set":
        out += conn.smembers(key)
    elif kind == "zset":
        out += [m for m, _ in conn.zrange(key, 0, -1, withscores=True)]
    elif kind == "stream":
        for entry_id, fields in conn.xrange(key):
            out.append(entry_id)
            for field, value in fields.items():
                out += [field, value]
    else:
        raise AssertionError(f"{key!r}: a key of type {kind} the scan does not read")
    return [v if isinstance(v, bytes) else str(v).encode() for v in out if v is not None]


def _strings(value: Any) -> Iterator[bytes]:
    """Every str and bytes inside a decoded structure (dict keys too)."""
    if isinstance(value, bytes | bytearray):
        yield bytes(value)
    elif isinstance(value, str):
        yield value.encode()
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    elif value is not None and not isinstance(value, int | float | bool):
        yield repr(value).encode()


def _mail(blob: bytes) -> Iterator[bytes]:
    message = email.message_from_bytes(blob, policy=email.policy.default)
    for name, value in message.items():
        yield f"{name}: {value}".encode()
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                yield payload


def variants(blob: bytes, depth: int = 0) -> Iterator[bytes]:
    """`blob` and every decoding of it that applies, recursively."""
    yield blob
    if depth > 6 or len(blob) < 2:
        return
    inner: list[bytes] = []
    with contextlib.suppress(zlib.error):
        inner.append(zlib.decompress(blob))
    decoders: list[Any] = [msgspec.msgpack.decode, json.loads]
    if blob[:1] == b"\x80":  # a pickle (protocol 2 on): RQ's job data and meta
        decoders.append(pickle.loads)
    for decoder in decoders:
        with contextlib.suppress(Exception):
            inner += list(_strings(decoder(blob)))
    if b"MIME-Version:" in blob or b"Content-Type:" in blob:
        inner += list(_mail(blob))
    if _BASE64.match(blob.strip()):
        with contextlib.suppress(binascii.Error, ValueError):
            inner.append(base64.b64decode(blob, validate=False))
    for item in inner:
        if item != blob:
            yield from variants(item, depth + 1)


def findings(conn: redis_sync.Redis, prefix: str, needles: list[str]) -> set[tuple[str, str]]:
    """(key, needle) for every needle found anywhere in the deployment's keyspace."""
    wanted = [(n, n.encode()) for n in needles] + [(n, n.casefold().encode()) for n in needles]
    found: set[tuple[str, str]] = set()
    for key in keys_of(conn, prefix):
        for value in raw_values(conn, key):
            for form in variants(value):
                for needle, raw in wanted:
                    if raw in form:
                        found.add((key.decode(), needle))
    return found
