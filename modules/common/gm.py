# SPDX-License-Identifier: AGPL-3.0-or-later
"""The one wrapper for Chinese national crypto (国密): SM3 hashing/HMAC and SM4.

Backed by `cryptography` (OpenSSL, C speed); the tests cross-check it against the
pure-Python `gmssl`. Every module that needs SM3/SM4 goes through here (DESIGN.md).

`sm4_seal`/`sm4_open` are the at-rest format: iv(16) || SM4-CBC(PKCS#7) || HMAC-SM3(32),
encrypt-then-MAC with a MAC key derived from the caller's key, so one key is enough.
"""

import functools
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SM4_KEY_SIZE = 16
SM4_BLOCK_SIZE = 16
SM3_DIGEST_SIZE = 32

# Domain separation: the MAC key of sm4_seal never equals the encryption key.
_SEAL_MAC_LABEL = b"jwwx-mac"


class GmError(ValueError):
    """Bad key/iv/block length, bad padding, or sealed data that fails verification."""


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_hex(data: bytes) -> str:
    return sm3(data).hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    if not key:
        raise GmError("HMAC-SM3 key must not be empty")
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def hmac_sm3_verify(key: bytes, data: bytes, mac: bytes) -> bool:
    """Constant-time check of an HMAC-SM3 tag."""
    if not key:
        raise GmError("HMAC-SM3 key must not be empty")
    checker = hmac.HMAC(key, hashes.SM3())
    checker.update(data)
    try:
        checker.verify(mac)
    except InvalidSignature:
        return False
    return True


def _check_key(key: bytes) -> None:
    if len(key) != SM4_KEY_SIZE:
        raise GmError(f"SM4 key must be {SM4_KEY_SIZE} bytes, got {len(key)}")


def _check_iv(iv: bytes) -> None:
    if len(iv) != SM4_BLOCK_SIZE:
        raise GmError(f"SM4 IV must be {SM4_BLOCK_SIZE} bytes, got {len(iv)}")


def _check_block(block: bytes) -> None:
    if len(block) != SM4_BLOCK_SIZE:
        raise GmError(f"SM4 block must be {SM4_BLOCK_SIZE} bytes, got {len(block)}")


def sm4_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """SM4-CBC with PKCS#7 padding (output is always a non-empty multiple of 16)."""
    _check_key(key)
    _check_iv(iv)
    padder = padding.PKCS7(SM4_BLOCK_SIZE * 8).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def sm4_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    _check_key(key)
    _check_iv(iv)
    if not ciphertext or len(ciphertext) % SM4_BLOCK_SIZE:
        raise GmError("SM4-CBC ciphertext length must be a non-zero multiple of 16")
    decryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(SM4_BLOCK_SIZE * 8).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as e:
        raise GmError("SM4-CBC padding is invalid (wrong key or corrupted data)") from e


def sm4_ecb_encrypt_block(key: bytes, block: bytes) -> bytes:
    """One raw 16-byte SM4 block, no padding (for test vectors and key wrapping)."""
    _check_key(key)
    _check_block(block)
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def sm4_ecb_decrypt_block(key: bytes, block: bytes) -> bytes:
    _check_key(key)
    _check_block(block)
    decryptor = Cipher(algorithms.SM4(key), modes.ECB()).decryptor()
    return decryptor.update(block) + decryptor.finalize()


@functools.lru_cache(maxsize=32)
def _seal_mac_key(key: bytes) -> bytes:
    # Derived once per key (a process seals with one or two): an HMAC less per seal
    # and per open, which the audit archive does for every record (issue 21).
    return hmac_sm3(key, _SEAL_MAC_LABEL)


def sm4_seal(key: bytes, plaintext: bytes) -> bytes:
    """Encrypt and authenticate: random IV + SM4-CBC ciphertext + HMAC-SM3 tag."""
    _check_key(key)
    iv = os.urandom(SM4_BLOCK_SIZE)
    body = iv + sm4_cbc_encrypt(key, iv, plaintext)
    return body + hmac_sm3(_seal_mac_key(key), body)


def sm4_open(key: bytes, sealed: bytes) -> bytes:
    """Verify the tag first (so tampered data is never decrypted), then decrypt."""
    _check_key(key)
    if len(sealed) < 2 * SM4_BLOCK_SIZE + SM3_DIGEST_SIZE:
        raise GmError("sealed data is too short")
    body, tag = sealed[:-SM3_DIGEST_SIZE], sealed[-SM3_DIGEST_SIZE:]
    if not hmac_sm3_verify(_seal_mac_key(key), body, tag):
        raise GmError("sealed data failed verification (wrong key or tampered data)")
    iv, ciphertext = body[:SM4_BLOCK_SIZE], body[SM4_BLOCK_SIZE:]
    return sm4_cbc_decrypt(key, iv, ciphertext)
