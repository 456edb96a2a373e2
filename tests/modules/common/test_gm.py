# SPDX-License-Identifier: AGPL-3.0-or-later
"""SM3/SM4 wrapper: standard vectors (GB/T 32905, GB/T 32907), agreement with the
pure-Python gmssl implementation, and the sealed at-rest format."""

import random

from twisted.trial import unittest

from gmssl import sm3 as gmssl_sm3
from gmssl import sm4 as gmssl_sm4
from gmssl.func import bytes_to_list

from modules.common import gm

_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


class Sm3Test(unittest.TestCase):
    def test_standard_vectors(self) -> None:
        self.assertEqual(
            gm.sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
        )
        self.assertEqual(
            gm.sm3_hex(b"abcd" * 16),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
        )
        self.assertEqual(len(gm.sm3(b"")), 32)

    def test_agrees_with_gmssl(self) -> None:
        rng = random.Random(7)
        for size in (0, 1, 55, 56, 64, 65, 1000):
            data = rng.randbytes(size)
            self.assertEqual(gm.sm3_hex(data), gmssl_sm3.sm3_hash(bytes_to_list(data)))

    def test_hmac(self) -> None:
        mac = gm.hmac_sm3(b"key", b"message")
        self.assertEqual(len(mac), 32)
        self.assertTrue(gm.hmac_sm3_verify(b"key", b"message", mac))
        self.assertFalse(gm.hmac_sm3_verify(b"key", b"messagE", mac))
        self.assertFalse(gm.hmac_sm3_verify(b"other", b"message", mac))
        self.assertFalse(gm.hmac_sm3_verify(b"key", b"message", mac[:-1]))
        self.assertRaises(gm.GmError, gm.hmac_sm3, b"", b"message")

    def test_hmac_matches_definition(self) -> None:
        # RFC 2104 with SM3's 64-byte block, built from the plain hash.
        key, data = b"k" * 10, b"payload"
        block = key.ljust(64, b"\0")
        inner = gm.sm3(bytes(b ^ 0x36 for b in block) + data)
        expected = gm.sm3(bytes(b ^ 0x5C for b in block) + inner)
        self.assertEqual(gm.hmac_sm3(key, data), expected)


class Sm4Test(unittest.TestCase):
    def test_standard_block_vector(self) -> None:
        cipher = gm.sm4_ecb_encrypt_block(_KEY, _KEY)
        self.assertEqual(cipher.hex(), "681edf34d206965e86b3e94f536e4246")
        self.assertEqual(gm.sm4_ecb_decrypt_block(_KEY, cipher), _KEY)

    def test_cbc_round_trip_and_padding(self) -> None:
        iv = bytes(range(16))
        for size in (0, 1, 15, 16, 17, 100):
            plain = bytes(size)
            cipher = gm.sm4_cbc_encrypt(_KEY, iv, plain)
            self.assertEqual(len(cipher), (size // 16 + 1) * 16)
            self.assertEqual(gm.sm4_cbc_decrypt(_KEY, iv, cipher), plain)

    def test_cbc_agrees_with_gmssl(self) -> None:
        rng = random.Random(11)
        for size in (0, 5, 16, 33, 500):
            key, iv, plain = rng.randbytes(16), rng.randbytes(16), rng.randbytes(size)
            ours = gm.sm4_cbc_encrypt(key, iv, plain)
            theirs = gmssl_sm4.CryptSM4()
            theirs.set_key(key, gmssl_sm4.SM4_ENCRYPT)
            self.assertEqual(ours, theirs.crypt_cbc(iv, plain))
            back = gmssl_sm4.CryptSM4()
            back.set_key(key, gmssl_sm4.SM4_DECRYPT)
            self.assertEqual(back.crypt_cbc(iv, ours), plain)

    def test_lengths_are_validated(self) -> None:
        iv = bytes(16)
        self.assertRaises(gm.GmError, gm.sm4_cbc_encrypt, b"short", iv, b"x")
        self.assertRaises(gm.GmError, gm.sm4_cbc_encrypt, _KEY, b"short", b"x")
        self.assertRaises(gm.GmError, gm.sm4_cbc_decrypt, _KEY, iv, b"")
        self.assertRaises(gm.GmError, gm.sm4_cbc_decrypt, _KEY, iv, bytes(17))
        self.assertRaises(gm.GmError, gm.sm4_ecb_encrypt_block, _KEY, bytes(15))
        self.assertRaises(gm.GmError, gm.sm4_ecb_decrypt_block, bytes(32), bytes(16))

    def test_bad_padding_is_gm_error(self) -> None:
        iv = bytes(16)
        cipher = gm.sm4_cbc_encrypt(_KEY, iv, b"secret")
        wrong = bytes(16)
        # Almost every wrong key breaks the padding; find one deterministically.
        with self.assertRaises(gm.GmError):
            for i in range(256):
                gm.sm4_cbc_decrypt(wrong[:-1] + bytes([i]), iv, cipher)


class SealTest(unittest.TestCase):
    def test_round_trip(self) -> None:
        for plain in (b"", b"x", "机密文件".encode() * 100):
            sealed = gm.sm4_seal(_KEY, plain)
            self.assertEqual(gm.sm4_open(_KEY, sealed), plain)

    def test_random_iv(self) -> None:
        self.assertNotEqual(gm.sm4_seal(_KEY, b"same"), gm.sm4_seal(_KEY, b"same"))

    def test_tampering_is_detected(self) -> None:
        sealed = gm.sm4_seal(_KEY, b"burn after read")
        for index in (0, 16, len(sealed) - 33, len(sealed) - 1):
            tampered = bytearray(sealed)
            tampered[index] ^= 0x01
            with self.assertRaises(gm.GmError):
                gm.sm4_open(_KEY, bytes(tampered))
        self.assertRaises(gm.GmError, gm.sm4_open, _KEY, sealed[:-1])
        self.assertRaises(gm.GmError, gm.sm4_open, _KEY, sealed[:40])

    def test_wrong_key(self) -> None:
        sealed = gm.sm4_seal(_KEY, b"burn after read")
        with self.assertRaises(gm.GmError) as caught:
            gm.sm4_open(bytes(16), sealed)
        self.assertIn("verification", str(caught.exception))
        self.assertRaises(gm.GmError, gm.sm4_seal, b"short", b"x")
