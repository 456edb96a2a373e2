# SPDX-License-Identifier: Apache-2.0
"""Write sdk/vectors.json, the test vectors every callback crypto library runs.

    python -m sdk.generate_vectors          # rewrite sdk/vectors.json
    python -m sdk.generate_vectors --check  # exit 1 when the file differs

Published cases are WeCom's sample values, fixed here with their source; the generator
only checks that the Python library (modules/openapi/crypto.py) agrees with them. Every
other case is computed by the Python library from fixed inputs, so the output is
deterministic and tests/sdk/test_vectors.py can compare it with the committed file.

A case is one call: `op` is "new" (construction), "verify_url", "decrypt_msg" or
"encrypt_msg"; its inputs are named like the Python library's parameters; it ends
either in `result` (the returned string) or in `error` (WeCom's negative code).
"""

import argparse
import base64
import json
import struct
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from modules.openapi import crypto
from modules.openapi.crypto import MsgCrypt, MsgCryptError

VECTORS = Path(__file__).resolve().parent / "vectors.json"

# WeCom's samples, as printed in its sample programs and on the page 加解密方案说明
# (https://developer.work.weixin.qq.com/document/path/91144).
WECOM_A = {
    "token": "QDG6eK",
    "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "receive_id": "wx5823bf96d3bd56c7",
}
WECOM_A_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhG"
    "d3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknm"
    "Pj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZ"
    "xZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4E"
    "hzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn2"
    "8H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
WECOM_A_MESSAGE = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
    "<FromUserName><![CDATA[mycreate]]></FromUserName>\n"
    "<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n"
    "<AgentID>218</AgentID>\n</xml>"
)
WECOM_B = {
    "token": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
    "encoding_aes_key": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
    "receive_id": "ww1436e0e65a779aee",
}
WECOM_B_ENCRYPT = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl"
    "3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA"
    "6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6"
    "EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugu"
    "x082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
)

PUBLISHED: list[dict[str, Any]] = [
    {
        "name": "wecom-sample-verify-url",
        "source": "WeCom sample (Sample.cpp/Sample.php, document 91144): URL verification",
        "op": "verify_url",
        "mode": "aes",
        **WECOM_A,
        "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
        "timestamp": "1409659589",
        "nonce": "263014780",
        "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8"
        "TgAE7OaBO+FZXvnaqQ==",
        "result": "1616140317555161061",
    },
    {
        "name": "wecom-sample-decrypt-msg",
        "source": "WeCom sample (Sample.cpp/Sample.php/Sample.cs): a callback POST body",
        "op": "decrypt_msg",
        "mode": "aes",
        **WECOM_A,
        "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
        "timestamp": "1409659813",
        "nonce": "1372623149",
        "post_data": "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"
        f"<Encrypt><![CDATA[{WECOM_A_ENCRYPT}]]></Encrypt>"
        "<AgentID><![CDATA[218]]></AgentID></xml>",
        "result": WECOM_A_MESSAGE,
    },
    {
        "name": "wecom-python-sample-verify-url",
        "source": "WeCom's Python sample (weworkapi_python callback/Sample.py)",
        "op": "verify_url",
        "mode": "aes",
        **WECOM_B,
        "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
        "timestamp": "1476416373",
        "nonce": "47744683",
        "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjno"
        "VzEtpbhnFyq6SVHyA==",
        "result": "1288432023552776189",
    },
    {
        "name": "wecom-python-sample-decrypt-msg",
        "source": "WeCom's Python sample (weworkapi_python callback/Sample.py)",
        "op": "decrypt_msg",
        "mode": "aes",
        **WECOM_B,
        "msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
        "timestamp": "1476422779",
        "nonce": "1597212914",
        "post_data": "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n"
        f"<Encrypt><![CDATA[{WECOM_B_ENCRYPT}]]></Encrypt>\n"
        "<AgentID><![CDATA[1000002]]></AgentID>\n</xml>",
        "result": "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>"
        "ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text"
        "</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002"
        "</AgentID></xml>",
    },
]

# Inputs of the generated cases.
APP = {
    "token": "jwwxToken42",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "receive_id": "jwwx-test",
}
RANDOM16 = bytes(range(16))
RANDOM16_HIGH = bytes(range(0xF0, 0x100))
STAMP, NONCE = "1700000000", "nonce123"
TEXT_CALLBACK = (
    "<xml><ToUserName><![CDATA[jwwx-test]]></ToUserName><FromUserName><![CDATA[zhangsan]]>"
    "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[你好，警务微信]]></Content><MsgId>1234567890123456</MsgId>"
    "<AgentID>1000002</AgentID></xml>"
)
EVENT_CALLBACK = (
    "<xml><ToUserName><![CDATA[jwwx-test]]></ToUserName><FromUserName><![CDATA[lisi]]>"
    "</FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[event]]>"
    "</MsgType><Event><![CDATA[click]]></Event><EventKey><![CDATA[#sendmsg#_0_0]]>"
    "</EventKey><AgentID>1000002</AgentID></xml>"
)
# Message lengths around the 32-byte padding block: the framing adds 16 + 4 bytes and
# the receive id (9 bytes), so 3 and 35 bytes fill whole blocks.
REPLIES = {
    "empty": "",
    "fills-one-block": "abc",
    "fills-two-blocks": "a" * 35,
    "one-byte-over": "a" * 36,
    "chinese": "民警张三：" + "收到，马上处理。" * 20,
    "cdata-end-in-text": "<xml><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>",
}


def _raw_cbc(mode: str, encoding_aes_key: str, data: bytes) -> str:
    """base64 of data CBC-encrypted without padding: for malformed plaintexts."""
    key = crypto.decode_encoding_aes_key(encoding_aes_key)
    if mode == "aes":
        cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))
    else:
        cipher = Cipher(algorithms.SM4(key[:16]), modes.CBC(key[16:]))
    encryptor = cipher.encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def _frame(message: bytes, receive_id: bytes, length: int | None = None) -> bytes:
    size = len(message) if length is None else length
    return RANDOM16 + struct.pack(">I", size) + message + receive_id


def _padded(plain: bytes) -> bytes:
    amount = crypto.PAD_BLOCK - len(plain) % crypto.PAD_BLOCK
    return plain + bytes([amount]) * amount


def _outcome(case: dict[str, Any]) -> dict[str, Any]:
    """The case with the Python library's result or error code."""
    try:
        crypt = MsgCrypt(
            case["token"], case["encoding_aes_key"], case["receive_id"], case["mode"]
        )
        op = case["op"]
        if op == "new":
            result = ""
        elif op == "verify_url":
            result = crypt.verify_url(
                case["msg_signature"], case["timestamp"], case["nonce"], case["echostr"]
            )
        elif op == "decrypt_msg":
            result = crypt.decrypt_msg(
                case["post_data"],
                case["msg_signature"],
                case["timestamp"],
                case["nonce"],
            )
        elif op == "encrypt_msg":
            result = crypt.encrypt_msg(
                case["reply"],
                case["nonce"],
                case["timestamp"],
                bytes.fromhex(case["random16_hex"]),
            )
        else:
            raise ValueError(f"unknown op {op!r}")
    except MsgCryptError as e:
        return {**case, "error": e.code}
    return {**case, "result": result}


def _signed(mode: str, app: dict[str, str], encrypt: str) -> str:
    return crypto.signature(app["token"], STAMP, NONCE, encrypt, mode)


def _body(encrypt: str) -> str:
    return (
        "<xml><ToUserName><![CDATA[jwwx-test]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID>1000002</AgentID></xml>"
    )


def _mode_cases(mode: str) -> list[dict[str, Any]]:
    crypt = MsgCrypt(APP["token"], APP["encoding_aes_key"], APP["receive_id"], mode)
    base = {"op": "", "mode": mode, **APP}
    cases: list[dict[str, Any]] = []

    def add(name: str, op: str, **inputs: str) -> None:
        cases.append({**base, "name": f"{mode}-{name}", "op": op, **inputs})

    def decrypt_case(name: str, encrypt: str, **override: str) -> None:
        inputs = {
            "msg_signature": _signed(mode, APP, encrypt),
            "timestamp": STAMP,
            "nonce": NONCE,
            "post_data": _body(encrypt),
        }
        add(name, "decrypt_msg", **{**inputs, **override})

    echostr = crypt.encrypt("8452371809264518", RANDOM16)
    add(
        "verify-url",
        "verify_url",
        msg_signature=_signed(mode, APP, echostr),
        timestamp=STAMP,
        nonce=NONCE,
        echostr=echostr,
    )
    add(
        "verify-url-upper-case-signature",
        "verify_url",
        msg_signature=_signed(mode, APP, echostr).upper(),
        timestamp=STAMP,
        nonce=NONCE,
        echostr=echostr,
    )
    add(
        "verify-url-bad-signature",
        "verify_url",
        msg_signature=_signed(mode, APP, echostr + "x"),
        timestamp=STAMP,
        nonce=NONCE,
        echostr=echostr,
    )
    text = crypt.encrypt(TEXT_CALLBACK, RANDOM16)
    decrypt_case("decrypt-text", text)
    decrypt_case("decrypt-event", crypt.encrypt(EVENT_CALLBACK, RANDOM16_HIGH))
    decrypt_case(
        "decrypt-prolog-and-plain-text",
        text,
        post_data=(
            '<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <!-- a comment -->\n'
            f"  <ToUserName>jwwx-test</ToUserName>\n  <Encrypt>{text}</Encrypt>\n"
            "  <AgentID>1000002</AgentID>\n</xml>\n"
        ),
    )
    decrypt_case("decrypt-bad-signature", text, timestamp="1700000001")
    decrypt_case("decrypt-no-encrypt", text, post_data="<xml><A>1</A></xml>")
    decrypt_case("decrypt-empty-encrypt", text, post_data=_body(""))
    decrypt_case("decrypt-broken-xml", text, post_data=_body(text)[:-3])
    decrypt_case(
        "decrypt-doctype",
        text,
        post_data=f'<!DOCTYPE xml [<!ENTITY e "x">]>{_body(text)}',
    )
    decrypt_case("decrypt-not-base64", "not base64!")
    decrypt_case("decrypt-bad-base64-padding", text[:-2])
    decrypt_case("decrypt-not-block-length", base64.b64encode(bytes(24)).decode())
    decrypt_case("decrypt-empty-ciphertext", "====")
    wrong_id = MsgCrypt(APP["token"], APP["encoding_aes_key"], "another-corp", mode)
    decrypt_case("decrypt-other-receive-id", wrong_id.encrypt(TEXT_CALLBACK, RANDOM16))
    raw = APP["receive_id"].encode()
    bad_pad = _frame(b"hello", raw)
    bad_pad += bytes(32 - len(bad_pad) % 32)  # a zero last byte is no PKCS#7 padding
    decrypt_case(
        "decrypt-bad-padding", _raw_cbc(mode, APP["encoding_aes_key"], bad_pad)
    )
    too_long = _padded(_frame(b"hello", raw, length=4096))
    decrypt_case(
        "decrypt-length-too-long", _raw_cbc(mode, APP["encoding_aes_key"], too_long)
    )
    short = _padded(RANDOM16[:12])
    decrypt_case("decrypt-too-short", _raw_cbc(mode, APP["encoding_aes_key"], short))
    latin = _padded(_frame("é".encode("latin-1"), raw))
    decrypt_case("decrypt-not-utf8", _raw_cbc(mode, APP["encoding_aes_key"], latin))
    for name, reply in REPLIES.items():
        add(
            f"encrypt-{name}",
            "encrypt_msg",
            reply=reply,
            timestamp=STAMP,
            nonce=NONCE,
            random16_hex=(RANDOM16_HIGH if name == "chinese" else RANDOM16).hex(),
        )
    add(
        "encrypt-nonce-with-cdata-end",
        "encrypt_msg",
        reply="x",
        timestamp=STAMP,
        nonce="a]]>b",
        random16_hex=RANDOM16.hex(),
    )
    return cases


def _construction_cases() -> list[dict[str, Any]]:
    keys = {
        "key-too-short": APP["encoding_aes_key"][:42],
        "key-too-long": APP["encoding_aes_key"] + "A",
        "key-bad-character": APP["encoding_aes_key"][:42] + "-",
    }
    cases = [
        {
            "name": f"new-{name}",
            "op": "new",
            "mode": "aes",
            **APP,
            "encoding_aes_key": key,
        }
        for name, key in keys.items()
    ]
    cases.append({"name": "new-unknown-mode", "op": "new", "mode": "des", **APP})
    cases.append({"name": "new-sm4", "op": "new", "mode": "sm4", **APP})
    return cases


def _published_encrypt() -> dict[str, Any]:
    """EncryptMsg of the published sample: its random prefix is recovered from the
    published ciphertext, so the envelope must carry that ciphertext and signature."""
    crypt = MsgCrypt(**WECOM_A)
    random16 = base64.b64decode(_raw_decrypt_first_block(WECOM_A_ENCRYPT))[:16]
    case = {
        "name": "wecom-sample-encrypt-msg",
        "source": "the published DecryptMsg sample run backwards: the same plaintext and "
        "random prefix give the published Encrypt and msg_signature",
        "op": "encrypt_msg",
        "mode": "aes",
        **WECOM_A,
        "reply": WECOM_A_MESSAGE,
        "timestamp": "1409659813",
        "nonce": "1372623149",
        "random16_hex": random16.hex(),
    }
    expected = crypto.envelope_xml(
        WECOM_A_ENCRYPT,
        "477715d11cdb4164915debcba66cb864d751f3e6",
        "1409659813",
        "1372623149",
    )
    assert crypt.encrypt(WECOM_A_MESSAGE, random16) == WECOM_A_ENCRYPT
    return {**case, "result": expected}


def _raw_decrypt_first_block(encrypt: str) -> str:
    key = crypto.decode_encoding_aes_key(WECOM_A["encoding_aes_key"])
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    data = base64.b64decode(encrypt)[:16]
    return base64.b64encode(decryptor.update(data) + decryptor.finalize()).decode()


def build() -> dict[str, Any]:
    for case in PUBLISHED:
        outcome = _outcome({k: v for k, v in case.items() if k != "result"})
        if outcome.get("result") != case["result"]:
            raise AssertionError(f"the Python library disagrees with {case['name']}")
    generated = [
        *_construction_cases(),
        *_mode_cases("aes"),
        *_mode_cases("sm4"),
    ]
    cases = [*PUBLISHED, _published_encrypt(), *(_outcome(c) for c in generated)]
    return {
        "about": "Callback crypto test vectors (WeCom's WXBizMsgCrypt; mode aes is "
        "WeCom's, mode sm4 is SM4-CBC + SM3, docs/openapi.md). Written by "
        "`python -m sdk.generate_vectors`; every library in sdk/ runs every case.",
        "cases": cases,
    }


def render() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=1) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    text = render()
    if args.check:
        same = VECTORS.exists() and VECTORS.read_text(encoding="utf-8") == text
        print("sdk/vectors.json is up to date" if same else "sdk/vectors.json differs")
        return 0 if same else 1
    VECTORS.write_text(text, encoding="utf-8")
    print(f"wrote {VECTORS} ({len(build()['cases'])} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
