// SPDX-License-Identifier: Apache-2.0
// Callback crypto: the framing WeCom documents (加解密方案说明):
//   plaintext  = random(16) || uint32_be(len(msg)) || msg || receive_id
//   encrypt    = base64(CBC(key, iv, PKCS#7(plaintext, block 32)))
//   signature  = hex(HASH(concat(sorted([token, timestamp, nonce, encrypt]))))
#include "WXBizMsgCrypt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdint>
#include <ctime>
#include <memory>
#include <vector>

namespace jwwx {
namespace {

const size_t kPadBlock = 32;
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int B64Value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::string B64Encode(const std::string &in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t n = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
        out += kB64[(n >> 18) & 63];
        out += kB64[(n >> 12) & 63];
        out += i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kB64[n & 63] : '=';
    }
    return out;
}

// Strict: alphabet only, '=' only as the last one or two characters, length % 4 == 0.
bool B64Decode(const std::string &in, std::string &out) {
    if (in.size() % 4 != 0) return false;
    size_t pad = 0;
    while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') pad++;
    out.clear();
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < in.size() - pad; i++) {
        int v = B64Value(static_cast<unsigned char>(in[i]));
        if (v < 0) return false;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return true;
}

bool ValidUtf8(const std::string &s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xe0) == 0xc0) { extra = 1; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { extra = 2; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { extra = 3; cp = c & 0x07; }
        else return false;
        if (i + extra >= s.size()) return false;
        for (size_t k = 1; k <= extra; k++) {
            unsigned char d = s[i + k];
            if ((d & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3f);
        }
        static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += extra + 1;
    }
    return true;
}

std::string Cdata(const std::string &text) {
    std::string out = "<![CDATA[";
    size_t start = 0, at;
    while ((at = text.find("]]>", start)) != std::string::npos) {
        out += text.substr(start, at - start) + "]]]]><![CDATA[>";
        start = at + 3;
    }
    return out + text.substr(start) + "]]>";
}

// A small XML reader for WeCom's flat callback bodies: well-formedness of elements,
// text, CDATA, comments, processing instructions, attributes and the predefined and
// numeric entities; no DTDs. It yields each top-level child's text (before its first
// child element), as Python's ElementTree does.
class FlatXml {
public:
    explicit FlatXml(const std::string &doc) : m_doc(doc), m_pos(0) {}

    bool Field(const std::string &tag, std::string &value) {
        if (m_doc.find("<!DOCTYPE") != std::string::npos ||
            m_doc.find("<!ENTITY") != std::string::npos)
            return false;
        SkipMisc();
        std::string rootTag, rootText;
        if (!Element(0, rootTag, rootText, &tag, &value)) return false;
        SkipMisc();
        return m_pos == m_doc.size() && m_found;
    }

private:
    bool At(const char *s) const { return m_doc.compare(m_pos, strlen(s), s) == 0; }

    void SkipSpace() {
        while (m_pos < m_doc.size() && strchr(" \t\r\n", m_doc[m_pos]) && m_doc[m_pos])
            m_pos++;
    }

    bool SkipUntil(const char *end) {
        size_t at = m_doc.find(end, m_pos);
        if (at == std::string::npos) return false;
        m_pos = at + strlen(end);
        return true;
    }

    void SkipMisc() {
        for (;;) {
            SkipSpace();
            if (At("<?")) { if (!SkipUntil("?>")) return; }
            else if (At("<!--")) { if (!SkipUntil("-->")) return; }
            else return;
        }
    }

    bool Name(std::string &name) {
        size_t start = m_pos;
        while (m_pos < m_doc.size()) {
            unsigned char c = m_doc[m_pos];
            if (isalnum(c) || c == '_' || c == ':' || c == '-' || c == '.' || c >= 0x80) m_pos++;
            else break;
        }
        name = m_doc.substr(start, m_pos - start);
        return !name.empty() && !isdigit(static_cast<unsigned char>(name[0])) &&
               name[0] != '-' && name[0] != '.';
    }

    bool Entity(std::string &text) {
        size_t end = m_doc.find(';', m_pos);
        if (end == std::string::npos) return false;
        std::string ref = m_doc.substr(m_pos + 1, end - m_pos - 1);
        m_pos = end + 1;
        if (ref == "lt") text += '<';
        else if (ref == "gt") text += '>';
        else if (ref == "amp") text += '&';
        else if (ref == "quot") text += '"';
        else if (ref == "apos") text += '\'';
        else if (ref.size() > 1 && ref[0] == '#') {
            bool hex = ref[1] == 'x';
            std::string digits = ref.substr(hex ? 2 : 1);
            if (digits.empty() || digits.size() > 8) return false;
            uint32_t cp = 0;
            for (char d : digits) {
                int v = hex ? (isxdigit(static_cast<unsigned char>(d)) ? (isdigit(d) ? d - '0' : (tolower(d) - 'a' + 10)) : -1)
                            : (isdigit(static_cast<unsigned char>(d)) ? d - '0' : -1);
                if (v < 0) return false;
                cp = cp * (hex ? 16 : 10) + v;
            }
            if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
            if (cp < 0x80) text += static_cast<char>(cp);
            else if (cp < 0x800) { text += static_cast<char>(0xc0 | (cp >> 6)); text += static_cast<char>(0x80 | (cp & 63)); }
            else if (cp < 0x10000) { text += static_cast<char>(0xe0 | (cp >> 12)); text += static_cast<char>(0x80 | ((cp >> 6) & 63)); text += static_cast<char>(0x80 | (cp & 63)); }
            else { text += static_cast<char>(0xf0 | (cp >> 18)); text += static_cast<char>(0x80 | ((cp >> 12) & 63)); text += static_cast<char>(0x80 | ((cp >> 6) & 63)); text += static_cast<char>(0x80 | (cp & 63)); }
        } else return false;
        return true;
    }

    // One element at m_pos ('<'); depth 0 is the root, whose children are looked up.
    bool Element(int depth, std::string &tag, std::string &text, const std::string *want,
                 std::string *value) {
        if (depth > 64 || !At("<")) return false;
        m_pos++;
        if (!Name(tag)) return false;
        for (;;) {  // attributes, ignored
            size_t before = m_pos;
            SkipSpace();
            if (At("/>")) { m_pos += 2; return true; }
            if (At(">")) { m_pos++; break; }
            std::string attr;
            if (m_pos == before || !Name(attr)) return false;
            SkipSpace();
            if (!At("=")) return false;
            m_pos++;
            SkipSpace();
            if (m_pos >= m_doc.size() || (m_doc[m_pos] != '"' && m_doc[m_pos] != '\'')) return false;
            size_t close = m_doc.find(m_doc[m_pos], m_pos + 1);
            if (close == std::string::npos) return false;
            m_pos = close + 1;
        }
        bool sawChild = false;
        while (m_pos < m_doc.size()) {
            if (At("</")) {
                m_pos += 2;
                std::string closing;
                if (!Name(closing) || closing != tag) return false;
                SkipSpace();
                if (!At(">")) return false;
                m_pos++;
                return true;
            }
            if (At("<![CDATA[")) {
                size_t end = m_doc.find("]]>", m_pos + 9);
                if (end == std::string::npos) return false;
                if (!sawChild) text += m_doc.substr(m_pos + 9, end - m_pos - 9);
                m_pos = end + 3;
            } else if (At("<!--")) {
                if (!SkipUntil("-->")) return false;
            } else if (At("<?")) {
                if (!SkipUntil("?>")) return false;
            } else if (At("<")) {
                std::string childTag, childText;
                if (!Element(depth + 1, childTag, childText, nullptr, nullptr)) return false;
                if (depth == 0 && want && childTag == *want) {
                    *value = childText;
                    m_found = true;
                }
                sawChild = true;
            } else if (At("&")) {
                std::string decoded;
                if (!Entity(decoded)) return false;
                if (!sawChild) text += decoded;
            } else {
                if (!sawChild) text += m_doc[m_pos];
                m_pos++;
            }
        }
        return false;
    }

    const std::string &m_doc;
    size_t m_pos;
    bool m_found = false;
};

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX *ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

}  // namespace

WXBizMsgCrypt::WXBizMsgCrypt(const std::string &sToken, const std::string &sEncodingAESKey,
                             const std::string &sReceiveId, const std::string &sMode)
    : m_token(sToken), m_receiveId(sReceiveId), m_mode(sMode), m_initError(0) {
    if (sMode != "aes" && sMode != "sm4") {
        m_initError = WXBizMsgCrypt_IllegalAesKey;
        m_initWhy = "mode must be \"aes\" or \"sm4\"";
        return;
    }
    bool charsOk = sEncodingAESKey.size() == 43;
    for (char c : sEncodingAESKey) charsOk = charsOk && B64Value(static_cast<unsigned char>(c)) >= 0;
    if (!charsOk || !B64Decode(sEncodingAESKey + "=", m_key) || m_key.size() != 32) {
        m_initError = WXBizMsgCrypt_IllegalAesKey;
        m_initWhy = "EncodingAESKey must be 43 base64 characters";
        return;
    }
    if (sMode == "sm4" && (!EVP_get_cipherbyname("SM4-CBC") || !EVP_get_digestbyname("SM3"))) {
        m_initError = WXBizMsgCrypt_IllegalAesKey;
        m_initWhy = "this OpenSSL has no SM4-CBC/SM3 (needs OpenSSL >= 1.1.1 built with SM4 and SM3)";
    }
}

int WXBizMsgCrypt::Fail(int code, const std::string &why) {
    m_lastError = why;
    return code;
}

int WXBizMsgCrypt::Sign(const std::string &sTimeStamp, const std::string &sNonce,
                        const std::string &sEncrypt, std::string &sSignature) {
    std::vector<std::string> parts = {m_token, sTimeStamp, sNonce, sEncrypt};
    std::sort(parts.begin(), parts.end());  // byte order = code point order for UTF-8
    std::string joined;
    for (const std::string &p : parts) joined += p;
    const EVP_MD *md = m_mode == "aes" ? EVP_sha1() : EVP_get_digestbyname("SM3");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!md || !EVP_Digest(joined.data(), joined.size(), digest, &size, md, nullptr))
        return Fail(WXBizMsgCrypt_ComputeSignature_Error, "digest failed");
    static const char kHex[] = "0123456789abcdef";
    sSignature.clear();
    for (unsigned int i = 0; i < size; i++) {
        sSignature += kHex[digest[i] >> 4];
        sSignature += kHex[digest[i] & 15];
    }
    return WXBizMsgCrypt_OK;
}

int WXBizMsgCrypt::CheckSignature(const std::string &sMsgSignature, const std::string &sTimeStamp,
                                  const std::string &sNonce, const std::string &sEncrypt) {
    std::string expected;
    int ret = Sign(sTimeStamp, sNonce, sEncrypt, expected);
    if (ret != WXBizMsgCrypt_OK) return ret;
    std::string given = sMsgSignature;
    for (char &c : given) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    if (given.size() != expected.size() ||
        CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0)
        return Fail(WXBizMsgCrypt_ValidateSignature_Error, "msg_signature mismatch");
    return WXBizMsgCrypt_OK;
}

int WXBizMsgCrypt::Encrypt(const std::string &sMessage, const std::string &sRandom16,
                           std::string &sEncrypt) {
    if (sRandom16.size() != 16) return Fail(WXBizMsgCrypt_EncryptAES_Error, "random prefix must be 16 bytes");
    uint32_t n = static_cast<uint32_t>(sMessage.size());
    std::string plain = sRandom16;
    plain += static_cast<char>(n >> 24);
    plain += static_cast<char>(n >> 16);
    plain += static_cast<char>(n >> 8);
    plain += static_cast<char>(n);
    plain += sMessage + m_receiveId;
    size_t amount = kPadBlock - plain.size() % kPadBlock;
    plain.append(amount, static_cast<char>(amount));

    const bool aes = m_mode == "aes";
    const EVP_CIPHER *cipher = aes ? EVP_aes_256_cbc() : EVP_get_cipherbyname("SM4-CBC");
    const unsigned char *key = reinterpret_cast<const unsigned char *>(m_key.data());
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
    std::string out(plain.size() + 32, '\0');
    int len = 0, tail = 0;
    if (!ctx || !cipher ||
        !EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key, aes ? key : key + 16) ||
        !EVP_CIPHER_CTX_set_padding(ctx.get(), 0) ||
        !EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char *>(&out[0]), &len,
                           reinterpret_cast<const unsigned char *>(plain.data()),
                           static_cast<int>(plain.size())) ||
        !EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char *>(&out[len]), &tail))
        return Fail(WXBizMsgCrypt_EncryptAES_Error, "encryption failed");
    out.resize(static_cast<size_t>(len + tail));
    sEncrypt = B64Encode(out);
    return WXBizMsgCrypt_OK;
}

int WXBizMsgCrypt::Decrypt(const std::string &sEncrypt, std::string &sMessage) {
    std::string data;
    if (!B64Decode(sEncrypt, data)) return Fail(WXBizMsgCrypt_DecodeBase64_Error, "ciphertext is not base64");
    if (data.empty() || data.size() % 16 != 0)
        return Fail(WXBizMsgCrypt_DecryptAES_Error, "ciphertext length is wrong");
    const bool aes = m_mode == "aes";
    const EVP_CIPHER *cipher = aes ? EVP_aes_256_cbc() : EVP_get_cipherbyname("SM4-CBC");
    const unsigned char *key = reinterpret_cast<const unsigned char *>(m_key.data());
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
    std::string plain(data.size() + 32, '\0');
    int len = 0, tail = 0;
    if (!ctx || !cipher ||
        !EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, key, aes ? key : key + 16) ||
        !EVP_CIPHER_CTX_set_padding(ctx.get(), 0) ||
        !EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char *>(&plain[0]), &len,
                           reinterpret_cast<const unsigned char *>(data.data()),
                           static_cast<int>(data.size())) ||
        !EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char *>(&plain[len]), &tail))
        return Fail(WXBizMsgCrypt_DecryptAES_Error, "decryption failed");
    plain.resize(static_cast<size_t>(len + tail));

    size_t amount = static_cast<unsigned char>(plain.back());
    if (amount < 1 || amount > kPadBlock || amount > plain.size())
        return Fail(WXBizMsgCrypt_IllegalBuffer, "bad padding");
    plain.resize(plain.size() - amount);
    if (plain.size() < 20) return Fail(WXBizMsgCrypt_IllegalBuffer, "plaintext too short");
    uint64_t length = 0;
    for (int i = 16; i < 20; i++) length = (length << 8) | static_cast<unsigned char>(plain[i]);
    if (20 + length > plain.size()) return Fail(WXBizMsgCrypt_IllegalBuffer, "message length is wrong");
    std::string message = plain.substr(20, static_cast<size_t>(length));
    std::string receiveId = plain.substr(20 + static_cast<size_t>(length));
    if (!ValidUtf8(message) || !ValidUtf8(receiveId))
        return Fail(WXBizMsgCrypt_IllegalBuffer, "plaintext is not UTF-8");
    if (receiveId != m_receiveId) return Fail(WXBizMsgCrypt_ValidateCorpid_Error, "receive id does not match");
    sMessage = message;
    return WXBizMsgCrypt_OK;
}

int WXBizMsgCrypt::VerifyURL(const std::string &sMsgSignature, const std::string &sTimeStamp,
                             const std::string &sNonce, const std::string &sEchoStr,
                             std::string &sReplyEchoStr) {
    m_lastError.clear();
    if (m_initError) return Fail(m_initError, m_initWhy);
    int ret = CheckSignature(sMsgSignature, sTimeStamp, sNonce, sEchoStr);
    if (ret != WXBizMsgCrypt_OK) return ret;
    return Decrypt(sEchoStr, sReplyEchoStr);
}

int WXBizMsgCrypt::DecryptMsg(const std::string &sMsgSignature, const std::string &sTimeStamp,
                              const std::string &sNonce, const std::string &sPostData,
                              std::string &sMsg) {
    m_lastError.clear();
    if (m_initError) return Fail(m_initError, m_initWhy);
    std::string encrypt;
    FlatXml xml(sPostData);
    if (!xml.Field("Encrypt", encrypt) || encrypt.empty())
        return Fail(WXBizMsgCrypt_ParseXml_Error, "bad XML or no Encrypt element");
    int ret = CheckSignature(sMsgSignature, sTimeStamp, sNonce, encrypt);
    if (ret != WXBizMsgCrypt_OK) return ret;
    return Decrypt(encrypt, sMsg);
}

int WXBizMsgCrypt::EncryptMsg(const std::string &sReplyMsg, const std::string &sTimeStamp,
                              const std::string &sNonce, std::string &sEncryptMsg) {
    unsigned char random16[16];
    if (RAND_bytes(random16, sizeof random16) != 1)
        return Fail(WXBizMsgCrypt_EncryptAES_Error, "no random bytes");
    return EncryptMsg(sReplyMsg, sTimeStamp, sNonce, sEncryptMsg,
                      std::string(reinterpret_cast<char *>(random16), sizeof random16));
}

int WXBizMsgCrypt::EncryptMsg(const std::string &sReplyMsg, const std::string &sTimeStamp,
                              const std::string &sNonce, std::string &sEncryptMsg,
                              const std::string &sRandom16) {
    m_lastError.clear();
    if (m_initError) return Fail(m_initError, m_initWhy);
    std::string stamp = sTimeStamp.empty() ? std::to_string(std::time(nullptr)) : sTimeStamp;
    std::string encrypt, signature;
    int ret = Encrypt(sReplyMsg, sRandom16, encrypt);
    if (ret == WXBizMsgCrypt_OK) ret = Sign(stamp, sNonce, encrypt, signature);
    if (ret != WXBizMsgCrypt_OK) return ret;
    sEncryptMsg = "<xml><Encrypt>" + Cdata(encrypt) + "</Encrypt><MsgSignature>" +
                  Cdata(signature) + "</MsgSignature><TimeStamp>" + stamp +
                  "</TimeStamp><Nonce>" + Cdata(sNonce) + "</Nonce></xml>";
    return WXBizMsgCrypt_OK;
}

}  // namespace jwwx
