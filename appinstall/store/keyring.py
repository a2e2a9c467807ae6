"""Encryption at rest for client secrets (AES-256-GCM), with master-key rotation.

Client secrets cannot only be hashed: the platform signs webhooks with an HMAC keyed by the secret, so we must
be able to read it back. Each ciphertext records which master key sealed it (a 4-byte key id), so a new key can
be put first while older ones still open what they sealed; ``appinstall db reencrypt`` then reseals everything
with the newest key. The installation id is bound in as associated data, so a ciphertext copied onto another
row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appinstall.store.files import private_folder

_VERSION = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER_BYTES = 1 + 4 + _NONCE_BYTES  # version, key id, nonce
KEY_BYTES = 32


class KeyringError(Exception):
    """A master key is malformed, missing, or does not open a ciphertext."""


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"appinstall master key id" + key).digest()[:4]


@dataclass(frozen=True)
class Keyring:
    """The master keys, newest first. The first seals; any of them opens what it sealed."""

    keys: tuple[bytes, ...]
    # Each key's cipher by key id, made once: token requests open a secret each, and a key id costs a SHA-256.
    _ciphers: dict[bytes, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("at least one master key is needed")
        for key in self.keys:
            if len(key) != KEY_BYTES:
                raise KeyringError(f"a master key must be {KEY_BYTES} bytes, not {len(key)}")
        ciphers: dict[bytes, AESGCM] = {}
        for key in self.keys:
            ciphers.setdefault(_key_id(key), AESGCM(key))
        object.__setattr__(self, "_ciphers", ciphers)

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """Keys as base64, comma-separated, newest first (the form of ``APPINSTALL_MASTER_KEY``)."""
        keys = []
        for number, part in enumerate(text.split(","), start=1):
            try:
                keys.append(base64.b64decode(part.strip(), validate=True))
            except binascii.Error:
                raise KeyringError(f"master key {number} is not valid base64") from None
        return cls(tuple(keys))

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        """Read the key file. A missing file is an error here: see ``create_file`` for the one time it is made."""
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            raise KeyringError(f"the master key file {path} does not exist") from None
        return cls.parse(text)

    @classmethod
    def create_file(cls, path: Path, text: str) -> Keyring:
        """Write ``text`` (keys as base64) to a new key file, mode 0600; refuse to replace an existing one."""
        keyring = cls.parse(text)
        private_folder(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text + "\n")
        return keyring

    @property
    def current_key_id(self) -> bytes:
        return next(iter(self._ciphers))

    def seal(self, plaintext: str, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._ciphers[self.current_key_id].encrypt(nonce, plaintext.encode(), context.encode())
        return _VERSION + self.current_key_id + nonce + sealed

    def open(self, ciphertext: bytes, context: str) -> str:
        if ciphertext[:1] != _VERSION:
            raise KeyringError("unknown ciphertext version")
        if len(ciphertext) < _HEADER_BYTES + _TAG_BYTES:
            raise KeyringError("ciphertext is truncated")
        key_id, nonce, sealed = ciphertext[1:5], ciphertext[5 : 5 + _NONCE_BYTES], ciphertext[5 + _NONCE_BYTES :]
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise KeyringError("no configured master key sealed this ciphertext; was an old key removed too early?")
        try:
            return cipher.decrypt(nonce, sealed, context.encode()).decode()
        except InvalidTag:
            raise KeyringError("ciphertext does not open: tampered or bound to another record") from None

    def is_current(self, ciphertext: bytes) -> bool:
        return ciphertext[1:5] == self.current_key_id

    @property
    def key_ids(self) -> tuple[bytes, ...]:
        """The id of each configured key, in the configured order (duplicates once)."""
        return tuple(self._ciphers)


def key_id_of(ciphertext: bytes) -> bytes:
    """The id of the master key that sealed ``ciphertext`` (it is recorded in the ciphertext's header)."""
    return ciphertext[1:5]


def key_label(key_id: bytes) -> str:
    """How a key is named to an operator: the hex of its id (``appinstall db reencrypt`` lists each key's)."""
    return key_id.hex()


def generate_key() -> str:
    """A new master key, as base64."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
