# SPDX-License-Identifier: AGPL-3.0-or-later OR Apache-2.0
"""WeCom callback crypto (企业微信回调加解密), standard AES and 国密 SM4/SM3 modes.

A self-contained file (only the `cryptography` package) that app developers may copy
into their own projects. It implements the framing WeCom documents for callbacks:

    plaintext  = random(16) || uint32_be(len(message)) || message || receive_id
    ciphertext = base64( CBC(key, iv, PKCS#7(plaintext, block=32)) )
    signature  = hex( HASH( "".join(sorted([token, timestamp, nonce, ciphertext])) ) )

Standard mode ("aes"), byte-for-byte what WeCom sends and expects:
    key = base64decode(EncodingAESKey + "=")  (32 bytes), AES-256-CBC, iv = key[:16],
    HASH = SHA-1.
国密 mode ("sm4"), the same framing with national algorithms:
    SM4-CBC with key = key32[:16], iv = key32[16:], HASH = SM3 (lower-case hex).

    crypt = MsgCrypt(token, encoding_aes_key, corpid, mode="aes")
    echo = crypt.verify_url(msg_signature, timestamp, nonce, echostr)   # URL verification
    xml = crypt.decrypt_msg(post_body, msg_signature, timestamp, nonce)  # a callback
    reply = crypt.encrypt_msg(reply_xml, nonce, timestamp)               # a passive reply

Errors raise MsgCryptError with WeCom's negative codes (-40001 … -40011). WeCom's own
method names and (ret, value) results: WXBizMsgCrypt below. Test vectors:
tests/modules/openapi/vectors.json and sdk/vectors.json (shared with the C++, PHP and
Java libraries in sdk/).

JS-SDK: `jsapi_signature(ticket, noncestr, timestamp, url)` is the SHA-1 of
"jsapi_ticket=…&noncestr=…&timestamp=…&url=…" (url without its #fragment), for both
wx.config (the corp ticket) and wx.agentConfig (the agent ticket).
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
import time
from xml.etree import ElementTree

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MODES = ("aes", "sm4")
PAD_BLOCK = 32

# WeCom's error codes of the reference libraries (WXBizMsgCrypt).
VALIDATE_SIGNATURE_ERROR = -40001
PARSE_XML_ERROR = -40002
COMPUTE_SIGNATURE_ERROR = -40003
ILLEGAL_AES_KEY = -40004
VALIDATE_CORPID_ERROR = -40005
ENCRYPT_AES_ERROR = -40006
DECRYPT_AES_ERROR = -40007
ILLEGAL_BUFFER = -40008
ENCODE_BASE64_ERROR = -40009
DECODE_BASE64_ERROR = -40010
GEN_RETURN_XML_ERROR = -40011

_KEY_CHARS = re.compile(r"^[A-Za-z0-9+/]{43}$")


class MsgCryptError(ValueError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def decode_encoding_aes_key(encoding_aes_key: str) -> bytes:
    """The 32 key bytes of a 43-character EncodingAESKey."""
    if not isinstance(encoding_aes_key, str) or not _KEY_CHARS.match(encoding_aes_key):
        raise MsgCryptError(ILLEGAL_AES_KEY, "EncodingAESKey must be 43 base64 chars")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as e:
        raise MsgCryptError(ILLEGAL_AES_KEY, "EncodingAESKey is not base64") from e
    if len(key) != 32:
        raise MsgCryptError(ILLEGAL_AES_KEY, "EncodingAESKey must decode to 32 bytes")
    return key


def generate_encoding_aes_key() -> str:
    """A random EncodingAESKey (43 characters), as WeCom's console generates."""
    return base64.b64encode(os.urandom(32)).decode("ascii")[:43]


def signature(token: str, timestamp: str, nonce: str, encrypt: str, mode: str) -> str:
    """msg_signature: SHA-1 (aes) or SM3 (sm4) hex of the sorted, joined parts."""
    joined = "".join(sorted([token, str(timestamp), str(nonce), encrypt])).encode()
    if mode == "aes":
        return hashlib.sha1(joined).hexdigest()  # noqa: S324 - WeCom's algorithm
    if mode == "sm4":
        digest = hashes.Hash(hashes.SM3())
        digest.update(joined)
        return digest.finalize().hex()
    raise MsgCryptError(COMPUTE_SIGNATURE_ERROR, f"unknown mode {mode!r}")


def _pad(data: bytes) -> bytes:
    amount = PAD_BLOCK - len(data) % PAD_BLOCK
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    if not data:
        raise MsgCryptError(ILLEGAL_BUFFER, "empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= PAD_BLOCK or amount > len(data):
        raise MsgCryptError(ILLEGAL_BUFFER, "bad padding")
    return data[:-amount]


class MsgCrypt:
    """One app's callback crypto: its Token, EncodingAESKey and receive id (the corpid
    for self-built apps)."""

    def __init__(
        self, token: str, encoding_aes_key: str, receive_id: str, mode: str = "aes"
    ) -> None:
        if mode not in MODES:
            raise MsgCryptError(ILLEGAL_AES_KEY, f"mode must be one of {MODES}")
        self.token = token
        self.receive_id = receive_id
        self.mode = mode
        self._key = decode_encoding_aes_key(encoding_aes_key)

    def _cipher(self) -> Cipher:
        if self.mode == "aes":
            return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))
        return Cipher(algorithms.SM4(self._key[:16]), modes.CBC(self._key[16:]))

    # The framing.

    def encrypt(self, message: str, random16: bytes | None = None) -> str:
        """base64 ciphertext of one message (random16 fixed only for test vectors)."""
        prefix = os.urandom(16) if random16 is None else random16
        if len(prefix) != 16:
            raise MsgCryptError(ENCRYPT_AES_ERROR, "random prefix must be 16 bytes")
        body = message.encode("utf-8")
        plain = prefix + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        encryptor = self._cipher().encryptor()
        data = encryptor.update(_pad(plain)) + encryptor.finalize()
        return base64.b64encode(data).decode("ascii")

    def decrypt(self, encrypt: str) -> tuple[str, str]:
        """(message, receive_id) from a base64 ciphertext; the receive id must match."""
        try:
            data = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as e:
            raise MsgCryptError(DECODE_BASE64_ERROR, "ciphertext is not base64") from e
        if not data or len(data) % 16:
            raise MsgCryptError(DECRYPT_AES_ERROR, "ciphertext length is wrong")
        decryptor = self._cipher().decryptor()
        plain = _unpad(decryptor.update(data) + decryptor.finalize())
        if len(plain) < 20:
            raise MsgCryptError(ILLEGAL_BUFFER, "plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise MsgCryptError(ILLEGAL_BUFFER, "message length is wrong")
        try:
            message = plain[20 : 20 + length].decode("utf-8")
            receive_id = plain[20 + length :].decode("utf-8")
        except UnicodeDecodeError as e:
            raise MsgCryptError(ILLEGAL_BUFFER, "plaintext is not UTF-8") from e
        if receive_id != self.receive_id:
            raise MsgCryptError(VALIDATE_CORPID_ERROR, "receive id does not match")
        return message, receive_id

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return signature(self.token, timestamp, nonce, encrypt, self.mode)

    def _check(self, msg_signature: str, timestamp: str, nonce: str, enc: str) -> None:
        expected = self.sign(timestamp, nonce, enc)
        given = str(msg_signature).lower().encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(expected.encode("ascii"), given):
            raise MsgCryptError(VALIDATE_SIGNATURE_ERROR, "msg_signature mismatch")

    # WeCom's four operations.

    def verify_url(
        self, msg_signature: str, timestamp: str, nonce: str, echostr: str
    ) -> str:
        """The plaintext echostr to answer to the URL-verification GET."""
        self._check(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)[0]

    def decrypt_msg(
        self, post_data: str | bytes, msg_signature: str, timestamp: str, nonce: str
    ) -> str:
        """The plaintext XML of a callback POST body."""
        encrypt = extract_encrypt(post_data)
        self._check(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)[0]

    def encrypt_msg(
        self,
        reply: str,
        nonce: str,
        timestamp: str | None = None,
        random16: bytes | None = None,
    ) -> str:
        """The encrypted XML envelope of a message (a reply, or a callback we send)."""
        stamp = str(int(time.time())) if timestamp is None else str(timestamp)
        encrypt = self.encrypt(reply, random16)
        return envelope_xml(encrypt, self.sign(stamp, nonce, encrypt), stamp, nonce)

    def encrypt_callback(
        self, message: str, agentid: int | str, random16: bytes | None = None
    ) -> str:
        """The POST body WeCom sends to a callback URL: ToUserName, Encrypt, AgentID."""
        encrypt = self.encrypt(message, random16)
        return (
            f"<xml><ToUserName>{cdata(self.receive_id)}</ToUserName>"
            f"<Encrypt>{cdata(encrypt)}</Encrypt>"
            f"<AgentID>{cdata(str(agentid))}</AgentID></xml>"
        )


class WXBizMsgCrypt:
    """WeCom's Python API (WXBizMsgCrypt3.py) over MsgCrypt, as sdk/ offers it in C++,
    PHP and Java: each call returns (ret, value), ret 0 or WeCom's negative code, so
    code written against WeCom's library ports unchanged. A bad key or mode raises
    MsgCryptError here, as WeCom's constructor raises."""

    def __init__(
        self, token: str, encoding_aes_key: str, receive_id: str, mode: str = "aes"
    ) -> None:
        self.crypt = MsgCrypt(token, encoding_aes_key, receive_id, mode)

    def VerifyURL(
        self, msg_signature: str, timestamp: str, nonce: str, echostr: str
    ) -> tuple[int, str | None]:
        try:
            return 0, self.crypt.verify_url(msg_signature, timestamp, nonce, echostr)
        except MsgCryptError as e:
            return e.code, None

    def DecryptMsg(
        self, post_data: str | bytes, msg_signature: str, timestamp: str, nonce: str
    ) -> tuple[int, str | None]:
        try:
            return 0, self.crypt.decrypt_msg(post_data, msg_signature, timestamp, nonce)
        except MsgCryptError as e:
            return e.code, None

    def EncryptMsg(
        self, reply: str, nonce: str, timestamp: str | None = None
    ) -> tuple[int, str | None]:
        try:
            return 0, self.crypt.encrypt_msg(reply, nonce, timestamp)
        except MsgCryptError as e:
            return e.code, None


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def envelope_xml(encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    return (
        f"<xml><Encrypt>{cdata(encrypt)}</Encrypt>"
        f"<MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce></xml>"
    )


def parse_xml(data: str | bytes) -> dict[str, str]:
    """Top-level elements of a flat WeCom XML document, as {tag: text}."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MsgCryptError(PARSE_XML_ERROR, "XML is not UTF-8") from e
    if "<!DOCTYPE" in data or "<!ENTITY" in data:
        raise MsgCryptError(PARSE_XML_ERROR, "DTDs are not allowed")
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - DTDs refused above
    except ElementTree.ParseError as e:
        raise MsgCryptError(PARSE_XML_ERROR, f"bad XML: {e}") from e
    return {child.tag: child.text or "" for child in root}


def extract_encrypt(post_data: str | bytes) -> str:
    fields = parse_xml(post_data)
    encrypt = fields.get("Encrypt")
    if not encrypt:
        raise MsgCryptError(PARSE_XML_ERROR, "no Encrypt element")
    return encrypt


def jsapi_signature(ticket: str, noncestr: str, timestamp: str | int, url: str) -> str:
    """wx.config / wx.agentConfig signature (SHA-1 hex) of a page URL."""
    page = url.split("#", 1)[0]
    text = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={page}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()  # noqa: S324 - WeCom's algorithm
