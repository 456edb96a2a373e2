// SPDX-License-Identifier: Apache-2.0
// WeCom-compatible callback crypto (企业微信回调消息加解密) for 警务微信 apps, in C++ with
// OpenSSL's libcrypto (>= 1.1.1). Two modes:
//   "aes": WeCom's own: AES-256-CBC, iv = key[:16], msg_signature = SHA-1 hex.
//   "sm4": the same framing with SM4-CBC (key = key32[:16], iv = key32[16:]) and SM3.
// The API follows WeCom's WXBizMsgCrypt (VerifyURL, DecryptMsg, EncryptMsg, int return
// codes -40001 … -40011); see README.md. Test vectors: ../vectors.json.
#ifndef JWWX_WXBIZMSGCRYPT_H
#define JWWX_WXBIZMSGCRYPT_H

#include <string>

namespace jwwx {

enum WXBizMsgCryptErrorCode {
    WXBizMsgCrypt_OK = 0,
    WXBizMsgCrypt_ValidateSignature_Error = -40001,
    WXBizMsgCrypt_ParseXml_Error = -40002,
    WXBizMsgCrypt_ComputeSignature_Error = -40003,
    WXBizMsgCrypt_IllegalAesKey = -40004,
    WXBizMsgCrypt_ValidateCorpid_Error = -40005,
    WXBizMsgCrypt_EncryptAES_Error = -40006,
    WXBizMsgCrypt_DecryptAES_Error = -40007,
    WXBizMsgCrypt_IllegalBuffer = -40008,
    WXBizMsgCrypt_EncodeBase64_Error = -40009,
    WXBizMsgCrypt_DecodeBase64_Error = -40010,
    WXBizMsgCrypt_GenReturnXml_Error = -40011,
};

class WXBizMsgCrypt {
public:
    // sReceiveId is the corpid for self-built apps. sMode is "aes" (default) or "sm4".
    // A bad key, an unknown mode or an OpenSSL without SM4/SM3 makes every call return
    // WXBizMsgCrypt_IllegalAesKey; LastError() says why.
    WXBizMsgCrypt(const std::string &sToken, const std::string &sEncodingAESKey,
                  const std::string &sReceiveId, const std::string &sMode = "aes");

    // URL verification (the GET): the plaintext echostr to answer with.
    int VerifyURL(const std::string &sMsgSignature, const std::string &sTimeStamp,
                  const std::string &sNonce, const std::string &sEchoStr,
                  std::string &sReplyEchoStr);

    // A callback (the POST body): the plaintext XML message.
    int DecryptMsg(const std::string &sMsgSignature, const std::string &sTimeStamp,
                   const std::string &sNonce, const std::string &sPostData,
                   std::string &sMsg);

    // A passive reply: the encrypted, signed XML envelope. An empty sTimeStamp means now.
    int EncryptMsg(const std::string &sReplyMsg, const std::string &sTimeStamp,
                   const std::string &sNonce, std::string &sEncryptMsg);

    // The same with a fixed 16-byte random prefix: for test vectors only.
    int EncryptMsg(const std::string &sReplyMsg, const std::string &sTimeStamp,
                   const std::string &sNonce, std::string &sEncryptMsg,
                   const std::string &sRandom16);

    // Why the last call failed (empty after a success).
    const std::string &LastError() const { return m_lastError; }

private:
    int Fail(int code, const std::string &why);
    int CheckSignature(const std::string &sMsgSignature, const std::string &sTimeStamp,
                       const std::string &sNonce, const std::string &sEncrypt);
    int Sign(const std::string &sTimeStamp, const std::string &sNonce,
             const std::string &sEncrypt, std::string &sSignature);
    int Encrypt(const std::string &sMessage, const std::string &sRandom16,
                std::string &sEncrypt);
    int Decrypt(const std::string &sEncrypt, std::string &sMessage);

    std::string m_token;
    std::string m_receiveId;
    std::string m_mode;
    std::string m_key;  // the 32 bytes of the EncodingAESKey
    int m_initError;
    std::string m_initWhy;
    std::string m_lastError;
};

}  // namespace jwwx

#endif
