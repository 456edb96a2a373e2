# SPDX-License-Identifier: AGPL-3.0-or-later
"""sdk/vectors.json agrees with the Python library (modules/openapi/crypto.py): it is
exactly what `python -m sdk.generate_vectors` writes, and every case gives the Python
library's answer. The other languages run the same file (test_libraries)."""

import json

from twisted.trial import unittest

from modules.openapi import crypto
from modules.openapi.crypto import MsgCrypt, MsgCryptError, WXBizMsgCrypt
from sdk import generate_vectors

CASES = json.loads(generate_vectors.VECTORS.read_text(encoding="utf-8"))["cases"]


def run_case(case: dict) -> tuple[int, str]:
    """(0, result) or (error code, "") of one case through the Python library."""
    try:
        crypt = MsgCrypt(
            case["token"], case["encoding_aes_key"], case["receive_id"], case["mode"]
        )
        if case["op"] == "new":
            return 0, ""
        if case["op"] == "verify_url":
            args = ("msg_signature", "timestamp", "nonce", "echostr")
            return 0, crypt.verify_url(*(case[a] for a in args))
        if case["op"] == "decrypt_msg":
            args = ("post_data", "msg_signature", "timestamp", "nonce")
            return 0, crypt.decrypt_msg(*(case[a] for a in args))
        random16 = bytes.fromhex(case["random16_hex"])
        return 0, crypt.encrypt_msg(
            case["reply"], case["nonce"], case["timestamp"], random16
        )
    except MsgCryptError as e:
        return e.code, ""


class VectorsFileTest(unittest.TestCase):
    def test_file_is_what_the_generator_writes(self) -> None:
        self.assertEqual(
            generate_vectors.VECTORS.read_text(encoding="utf-8"),
            generate_vectors.render(),
            "sdk/vectors.json is stale: run python -m sdk.generate_vectors",
        )

    def test_python_library_gives_every_answer(self) -> None:
        for case in CASES:
            expected = (case.get("error", 0), case.get("result", ""))
            self.assertEqual(run_case(case), expected, case["name"])

    def test_wecom_style_api_gives_every_answer(self) -> None:
        """WXBizMsgCrypt: WeCom's names and (ret, value) results over the same cases."""
        for case in CASES:
            keys = ("token", "encoding_aes_key", "receive_id", "mode")
            try:
                crypt = WXBizMsgCrypt(*(case[k] for k in keys))
            except MsgCryptError as e:
                self.assertEqual(e.code, case.get("error"), case["name"])
                continue
            if case["op"] == "verify_url":
                args = ("msg_signature", "timestamp", "nonce", "echostr")
                ret, value = crypt.VerifyURL(*(case[a] for a in args))
            elif case["op"] == "decrypt_msg":
                args = ("post_data", "msg_signature", "timestamp", "nonce")
                ret, value = crypt.DecryptMsg(*(case[a] for a in args))
            elif case["op"] == "encrypt_msg":
                ret, value = crypt.EncryptMsg(
                    case["reply"], case["nonce"], case["timestamp"]
                )
                if ret == 0:  # the prefix is random here: decrypt the envelope back
                    assert value is not None
                    fields = crypto.parse_xml(value)
                    back = crypt.DecryptMsg(
                        value, fields["MsgSignature"], case["timestamp"], case["nonce"]
                    )
                    self.assertEqual(back, (0, case["reply"]), case["name"])
                    continue
            else:
                ret, value = 0, ""
            expected = (case.get("error", 0), case.get("result"))
            self.assertEqual((ret, value if ret == 0 else None), expected, case["name"])

    def test_coverage(self) -> None:
        """WeCom's published samples, both modes, every operation, every error path."""
        names = {c["name"] for c in CASES}
        for published in ("verify-url", "decrypt-msg", "encrypt-msg"):
            self.assertIn(f"wecom-sample-{published}", names)
        for mode in ("aes", "sm4"):
            ops = {c["op"] for c in CASES if c["mode"] == mode}
            self.assertEqual(ops, {"new", "verify_url", "decrypt_msg", "encrypt_msg"})
        codes = {c["error"] for c in CASES if "error" in c}
        self.assertEqual(
            codes, {-40001, -40002, -40004, -40005, -40007, -40008, -40010}
        )
