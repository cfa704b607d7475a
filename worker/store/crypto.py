"""Envelope encryption of secret values: what the store writes instead of a secret.

Each value is sealed under a fresh 256-bit *data key* with AES-256-GCM, and the data key
is itself sealed (*wrapped*) under a *master key*, also with AES-256-GCM. A stored row
holds ``(key_id, wrapped_key, ciphertext)``, never the value; the master keys live only
in the servers' configuration (``secrets.key`` / ``TOOLPOOL_SECRETS_KEY``, or a key file),
never in the database. So a ``pg_dump`` or a copy of the SQLite file holds no value.

* **Associated data.** Both layers bind the tenant and the secret's name (and the
  wrapping layer the master key's id), so a row copied to another tenant or name, or
  relabelled with another key id, fails to open instead of yielding a value.
* **Key ids.** Every master key has an id, stored beside each row it wrapped, so several
  keys can be configured at once: the first is the *primary* (it seals new values), the
  others only open rows not yet rotated. Rotation re-wraps each row's data key under the
  primary; the value's ciphertext does not change.

Key text, in ``secrets.key`` or a key file: entries separated by commas or new lines,
each ``ID:BASE64`` or just ``BASE64`` (base64 of exactly 32 bytes); an entry without an
id gets ``k`` + the first 8 hex digits of the key's SHA-256, so the same key always has
the same id. Lines starting with ``#`` are comments.

This module trusts nothing it reads from the database: any failure to open is
``SecretUndecryptable``. It trusts its caller to keep master keys out of logs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_VALUE_CONTEXT = b"toolpool/secret-value/v1"
_WRAP_CONTEXT = b"toolpool/data-key/v1"


class KeyTextError(ValueError):
    """Key text that is not a list of base64 keys of 32 bytes; says which entry and why."""


class SecretUndecryptable(Exception):
    """A stored secret does not open with the configured keys (wrong key, unknown key id,
    or a row copied to another tenant or name)."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class Sealed:
    """One secret as stored: which master key wrapped its data key, and the two ciphertexts
    (each a 12-byte nonce followed by AES-GCM's output)."""

    key_id: str
    wrapped_key: bytes
    ciphertext: bytes


def default_key_id(key: bytes) -> str:
    return "k" + hashlib.sha256(key).hexdigest()[:8]


def parse_keys(text: str) -> tuple[MasterKey, ...]:
    """The keys in ``text``, primary first. Raises KeyTextError naming the bad entry."""
    entries = [
        e.strip()
        for line in text.splitlines()
        if not line.strip().startswith("#")
        for e in line.split(",")
        if e.strip()
    ]
    if not entries:
        raise KeyTextError("no key given")
    keys = tuple(_parse_entry(i, entry) for i, entry in enumerate(entries))
    ids = [k.key_id for k in keys]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise KeyTextError(f"two keys share the id {duplicates[0]!r}")
    return keys


def _parse_entry(index: int, entry: str) -> MasterKey:
    key_id, _, encoded = entry.rpartition(":")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise KeyTextError(f"key {index + 1} is not base64") from None
    if len(key) != KEY_BYTES:
        raise KeyTextError(
            f"key {index + 1} is {len(key)} bytes; a key must be base64 of exactly "
            f"{KEY_BYTES} bytes (make one with: openssl rand -base64 32)"
        )
    if key_id and not KEY_ID_RE.fullmatch(key_id):
        raise KeyTextError(f"key {index + 1}: the id {key_id[:80]!r} is not valid (pattern {KEY_ID_RE.pattern})")
    return MasterKey(key_id or default_key_id(key), key)


def new_key_text() -> str:
    """A fresh key entry, as a key file holds it."""
    key = os.urandom(KEY_BYTES)
    return f"{default_key_id(key)}:{base64.b64encode(key).decode()}"


def read_or_create_key_file(path: Path) -> str:
    """The key file's text; a new file (mode 0600) with a fresh key if there is none."""
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server made it first: use theirs
        return path.read_text()
    with os.fdopen(fd, "w") as handle:
        handle.write("# toolpool secrets master key (worker/store/crypto.py); keep a copy apart from the database\n")
        handle.write(new_key_text() + "\n")
    return path.read_text()


def _context(prefix: bytes, tenant: str, name: str, key_id: str = "") -> bytes:
    parts = [prefix, tenant.encode(), name.encode(), key_id.encode()]
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + 16:
        raise InvalidTag()
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)


class Keyring:
    """The configured master keys; seals with the primary, opens with any."""

    def __init__(self, keys: Sequence[MasterKey]):
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self.primary = keys[0]
        self._by_id = {k.key_id: k for k in keys}

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def seal(self, tenant: str, name: str, value: str) -> Sealed:
        data_key = AESGCM.generate_key(bit_length=256)
        ciphertext = _seal(data_key, value.encode(), _context(_VALUE_CONTEXT, tenant, name))
        return Sealed(self.primary.key_id, self._wrap(self.primary, tenant, name, data_key), ciphertext)

    def open(self, tenant: str, name: str, sealed: Sealed) -> str:
        data_key = self._unwrap(tenant, name, sealed)
        try:
            return _open(data_key, sealed.ciphertext, _context(_VALUE_CONTEXT, tenant, name)).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise SecretUndecryptable(f"secret {name!r} of tenant {tenant!r} does not decrypt") from None

    def check(self, tenant: str, name: str, sealed: Sealed) -> None:
        """Raises SecretUndecryptable unless ``sealed`` opens (both layers)."""
        self.open(tenant, name, sealed)

    def rewrap(self, tenant: str, name: str, sealed: Sealed) -> Sealed:
        """The same ciphertext with its data key wrapped under the primary key."""
        data_key = self._unwrap(tenant, name, sealed)
        return Sealed(self.primary.key_id, self._wrap(self.primary, tenant, name, data_key), sealed.ciphertext)

    def _wrap(self, master: MasterKey, tenant: str, name: str, data_key: bytes) -> bytes:
        return _seal(master.key, data_key, _context(_WRAP_CONTEXT, tenant, name, master.key_id))

    def _unwrap(self, tenant: str, name: str, sealed: Sealed) -> bytes:
        master = self._by_id.get(sealed.key_id)
        if master is None:
            raise SecretUndecryptable(
                f"secret {name!r} of tenant {tenant!r} was sealed under key id {sealed.key_id!r}, "
                f"which is not configured (configured: {', '.join(self._by_id)})"
            )
        try:
            return _open(master.key, sealed.wrapped_key, _context(_WRAP_CONTEXT, tenant, name, master.key_id))
        except InvalidTag:
            raise SecretUndecryptable(
                f"secret {name!r} of tenant {tenant!r} does not open with the key {master.key_id!r}: a different "
                "key under the same id, or a row copied from another tenant or name"
            ) from None
