# SPDX-License-Identifier: AGPL-3.0-or-later
"""WeCom callback crypto and the JS-SDK signature: published vectors, round trips, and an
independent check of the SM4/SM3 mode of the shared vectors (sdk/vectors.json, which
tests/sdk runs through this library and the C++, PHP and Java ones) with the pure-Python
gmssl."""

import base64
import json
import struct
from pathlib import Path

from twisted.trial import unittest

from gmssl import sm3, sm4

from modules.openapi import crypto
from modules.openapi.crypto import MsgCrypt, MsgCryptError, jsapi_signature

VECTORS = json.loads(
    (Path(__file__).parent / "vectors.json").read_text(encoding="utf-8")
)
ROOT = Path(__file__).resolve().parents[3]
SHARED = {
    case["name"]: case
    for case in json.loads((ROOT / "sdk/vectors.json").read_text(encoding="utf-8"))[
        "cases"
    ]
}


class PublishedVectorsTest(unittest.TestCase):
    def test_wecom_url_verification_example(self) -> None:
        v = SHARED["wecom-sample-verify-url"]
        c = MsgCrypt(v["token"], v["encoding_aes_key"], v["receive_id"])
        self.assertEqual(
            c.verify_url(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"]),
            "1616140317555161061",
        )
        with self.assertRaises(MsgCryptError) as caught:
            c.verify_url("0" * 40, v["timestamp"], v["nonce"], v["echostr"])
        self.assertEqual(caught.exception.code, crypto.VALIDATE_SIGNATURE_ERROR)
        other = MsgCrypt(v["token"], v["encoding_aes_key"], "another-corp")
        with self.assertRaises(MsgCryptError) as caught:
            other.verify_url(
                v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"]
            )
        self.assertEqual(caught.exception.code, crypto.VALIDATE_CORPID_ERROR)

    def test_jsapi_signature_worked_example(self) -> None:
        v = VECTORS["jsapi_published"]
        self.assertEqual(
            jsapi_signature(v["jsapi_ticket"], v["noncestr"], v["timestamp"], v["url"]),
            v["signature"],
        )
        # The #fragment is not part of the signed URL.
        self.assertEqual(
            jsapi_signature(
                v["jsapi_ticket"], v["noncestr"], v["timestamp"], v["url"] + "#x"
            ),
            v["signature"],
        )


class SharedVectorsTest(unittest.TestCase):
    def test_committed_vectors_both_modes(self) -> None:
        for name in ("aes-decrypt-text", "sm4-decrypt-text"):
            v = SHARED[name]
            c = MsgCrypt(v["token"], v["encoding_aes_key"], v["receive_id"], v["mode"])
            args = (v["msg_signature"], v["timestamp"], v["nonce"])
            self.assertEqual(c.decrypt_msg(v["post_data"], *args), v["result"])
            random16 = bytes(range(16))  # the prefix the generator used
            encrypt = crypto.extract_encrypt(v["post_data"])
            self.assertEqual(c.encrypt(v["result"], random16), encrypt)

    def test_sm4_mode_against_gmssl(self) -> None:
        v = SHARED["sm4-decrypt-text"]
        encrypt = crypto.extract_encrypt(v["post_data"])
        key = base64.b64decode(v["encoding_aes_key"] + "=")
        cipher = sm4.CryptSM4()
        cipher.set_key(key[:16], sm4.SM4_DECRYPT)
        # gmssl strips PKCS#7 itself only for 16-byte blocks; take the raw blocks.
        raw = cipher.crypt_cbc(key[16:], base64.b64decode(encrypt))
        plain = raw[: len(raw) - raw[-1]] if raw[-1] <= 16 else raw
        body = v["result"].encode("utf-8")
        self.assertEqual(plain[16:20], struct.pack(">I", len(body)))
        self.assertEqual(plain[20 : 20 + len(body)], body)
        joined = "".join(
            sorted([v["token"], v["timestamp"], v["nonce"], encrypt])
        ).encode()
        self.assertEqual(sm3.sm3_hash(list(joined)), v["msg_signature"])


class RoundTripTest(unittest.TestCase):
    def test_round_trip_and_reply_envelope(self) -> None:
        key = crypto.generate_encoding_aes_key()
        self.assertEqual(len(key), 43)
        for mode in crypto.MODES:
            c = MsgCrypt("tok", key, "corp", mode)
            for text in ("", "x", "中文" * 100, "a" * 31, "a" * 32):
                reply = c.encrypt_msg(text, "n1", "1700000000")
                fields = crypto.parse_xml(reply)
                self.assertEqual(
                    c.decrypt_msg(reply, fields["MsgSignature"], "1700000000", "n1"),
                    text,
                )
            encrypted = c.encrypt("hello")
            self.assertEqual(len(base64.b64decode(encrypted)) % 32, 0)

    def test_bad_inputs(self) -> None:
        with self.assertRaises(MsgCryptError) as caught:
            MsgCrypt("t", "short", "corp")
        self.assertEqual(caught.exception.code, crypto.ILLEGAL_AES_KEY)
        c = MsgCrypt("t", crypto.generate_encoding_aes_key(), "corp")
        with self.assertRaises(MsgCryptError) as caught:
            c.decrypt("not base64!")
        self.assertEqual(caught.exception.code, crypto.DECODE_BASE64_ERROR)
        with self.assertRaises(MsgCryptError) as caught:
            c.decrypt_msg("<xml><a>", "s", "1", "n")
        self.assertEqual(caught.exception.code, crypto.PARSE_XML_ERROR)
        with self.assertRaises(MsgCryptError):
            crypto.parse_xml('<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>')
