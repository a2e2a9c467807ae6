"""Encryption at rest of client secrets: AES-GCM bound to the installation, with master-key rotation."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from appinstall.store.keyring import KEY_BYTES, Keyring, KeyringError, generate_key

OLD_KEY = bytes(range(KEY_BYTES))
NEW_KEY = bytes(range(100, 100 + KEY_BYTES))
SECRET = "s3cret-client-secret-value"
INSTALLATION = "3f1c2b9e-0000-4000-8000-000000000001"
OTHER_INSTALLATION = "3f1c2b9e-0000-4000-8000-000000000002"


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_a_sealed_secret_opens_to_the_same_text() -> None:
    keyring = Keyring((OLD_KEY,))
    assert keyring.open(keyring.seal(SECRET, INSTALLATION), INSTALLATION) == SECRET


def test_the_ciphertext_does_not_contain_the_plaintext() -> None:
    ciphertext = Keyring((OLD_KEY,)).seal(SECRET, INSTALLATION)
    assert SECRET.encode() not in ciphertext


def test_sealing_twice_gives_different_ciphertexts() -> None:
    keyring = Keyring((OLD_KEY,))
    assert keyring.seal(SECRET, INSTALLATION) != keyring.seal(SECRET, INSTALLATION)


def test_a_ciphertext_does_not_open_for_another_installation() -> None:
    keyring = Keyring((OLD_KEY,))
    ciphertext = keyring.seal(SECRET, INSTALLATION)
    with pytest.raises(KeyringError):
        keyring.open(ciphertext, OTHER_INSTALLATION)


@pytest.mark.parametrize("position", [0, 1, 5, 20, -1], ids=["version", "key-id", "nonce", "body", "tag"])
def test_a_flipped_byte_does_not_open(position: int) -> None:
    keyring = Keyring((OLD_KEY,))
    ciphertext = bytearray(keyring.seal(SECRET, INSTALLATION))
    ciphertext[position] ^= 0x01
    with pytest.raises(KeyringError):
        keyring.open(bytes(ciphertext), INSTALLATION)


@pytest.mark.parametrize(
    "length", [0, 1, 5, 9, 17, 20], ids=["empty", "version-only", "no-nonce", "short-nonce", "no-tag", "short-tag"]
)
def test_a_truncated_ciphertext_does_not_open(length: int) -> None:
    keyring = Keyring((OLD_KEY,))
    ciphertext = keyring.seal(SECRET, INSTALLATION)
    with pytest.raises(KeyringError):
        keyring.open(ciphertext[:length], INSTALLATION)


def test_a_ciphertext_sealed_by_the_old_key_opens_after_rotation() -> None:
    ciphertext = Keyring((OLD_KEY,)).seal(SECRET, INSTALLATION)
    assert Keyring((NEW_KEY, OLD_KEY)).open(ciphertext, INSTALLATION) == SECRET


def test_a_ciphertext_sealed_by_the_old_key_is_not_current_after_rotation() -> None:
    ciphertext = Keyring((OLD_KEY,)).seal(SECRET, INSTALLATION)
    assert not Keyring((NEW_KEY, OLD_KEY)).is_current(ciphertext)


def test_a_new_seal_after_rotation_is_current() -> None:
    rotated = Keyring((NEW_KEY, OLD_KEY))
    assert rotated.is_current(rotated.seal(SECRET, INSTALLATION))


def test_a_new_seal_after_rotation_does_not_open_with_the_old_key_alone() -> None:
    ciphertext = Keyring((NEW_KEY, OLD_KEY)).seal(SECRET, INSTALLATION)
    with pytest.raises(KeyringError):
        Keyring((OLD_KEY,)).open(ciphertext, INSTALLATION)


def test_removing_the_old_key_too_early_fails_with_a_message_about_the_key() -> None:
    ciphertext = Keyring((OLD_KEY,)).seal(SECRET, INSTALLATION)
    with pytest.raises(KeyringError, match="master key"):
        Keyring((NEW_KEY,)).open(ciphertext, INSTALLATION)


def test_parse_reads_keys_newest_first() -> None:
    keyring = Keyring.parse(f"{_b64(NEW_KEY)}, {_b64(OLD_KEY)}")
    assert keyring.keys == (NEW_KEY, OLD_KEY)


@pytest.mark.parametrize(
    "text",
    ["not base64!", f"{_b64(NEW_KEY)},%%%", "QUJD=X"],
    ids=["garbage", "second-key-garbage", "misplaced-padding"],
)
def test_parse_rejects_bad_base64(text: str) -> None:
    with pytest.raises(KeyringError, match="base64"):
        Keyring.parse(text)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_parse_rejects_keys_of_the_wrong_length(length: int) -> None:
    with pytest.raises(KeyringError, match="32 bytes"):
        Keyring.parse(_b64(bytes(length)))


def test_a_keyring_needs_at_least_one_key() -> None:
    with pytest.raises(KeyringError):
        Keyring(())


def test_a_generated_key_parses_to_32_bytes() -> None:
    (key,) = Keyring.parse(generate_key()).keys
    assert len(key) == KEY_BYTES


def test_create_file_writes_the_key_file_readable_only_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "data" / "master.key"
    Keyring.create_file(path, generate_key())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_create_file_never_replaces_an_existing_key_file(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    Keyring.create_file(path, generate_key())
    content = path.read_text()
    with pytest.raises(FileExistsError):
        Keyring.create_file(path, generate_key())
    assert path.read_text() == content


def test_from_file_of_a_missing_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="does not exist"):
        Keyring.from_file(tmp_path / "master.key")
    assert not (tmp_path / "master.key").exists()


def test_a_secret_sealed_with_the_file_key_opens_after_reloading_it(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    ciphertext = Keyring.create_file(path, generate_key()).seal(SECRET, INSTALLATION)
    assert Keyring.from_file(path).open(ciphertext, INSTALLATION) == SECRET
