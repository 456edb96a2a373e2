// SPDX-License-Identifier: Apache-2.0
package cn.jwwx.callback;

import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;
import org.xml.sax.helpers.DefaultHandler;

/**
 * WeCom-compatible callback crypto (企业微信回调消息加解密) for 警务微信 apps, on the JCE.
 *
 * <p>Mode "aes" is WeCom's own: AES-256-CBC with iv = key[:16], msg_signature = SHA-1 hex.
 * Mode "sm4" has the same framing with SM4-CBC (key = key32[:16], iv = key32[16:]) and SM3,
 * from an installed JCE provider that has them, else from BouncyCastle (bcprov) found on
 * the class path. The API follows WeCom's Java WXBizMsgCrypt (VerifyURL, DecryptMsg,
 * EncryptMsg throwing AesException); see README.md. Test vectors: ../vectors.json.
 */
public class WXBizMsgCrypt {
    public static final String MODE_AES = "aes";
    public static final String MODE_SM4 = "sm4";

    private static final int PAD_BLOCK = 32;
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9+/]{43}");
    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/]*={0,2}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String token;
    private final String receiveId;
    private final String mode;
    private final byte[] key;
    private final Provider sm; // the SM4/SM3 provider, null in mode "aes"

    /** WeCom's constructor: mode "aes". receiveId is the corpid for self-built apps. */
    public WXBizMsgCrypt(String token, String encodingAesKey, String receiveId)
            throws AesException {
        this(token, encodingAesKey, receiveId, MODE_AES);
    }

    public WXBizMsgCrypt(String token, String encodingAesKey, String receiveId, String mode)
            throws AesException {
        if (!MODE_AES.equals(mode) && !MODE_SM4.equals(mode)) {
            throw new AesException(AesException.IllegalAesKey, "mode must be \"aes\" or \"sm4\"");
        }
        if (encodingAesKey == null || !KEY.matcher(encodingAesKey).matches()) {
            throw new AesException(
                    AesException.IllegalAesKey, "EncodingAESKey must be 43 base64 characters");
        }
        this.token = token;
        this.receiveId = receiveId;
        this.mode = mode;
        this.key = Base64.getDecoder().decode(encodingAesKey + "=");
        this.sm = MODE_SM4.equals(mode) ? GmProvider.find() : null;
    }

    /** URL verification (the GET): the plaintext echostr to answer with. */
    public String VerifyURL(String msgSignature, String timeStamp, String nonce, String echoStr)
            throws AesException {
        checkSignature(msgSignature, timeStamp, nonce, echoStr);
        return decrypt(echoStr);
    }

    /** A callback (the POST body): the plaintext XML message. */
    public String DecryptMsg(String msgSignature, String timeStamp, String nonce, String postData)
            throws AesException {
        String encrypt = encryptField(postData);
        checkSignature(msgSignature, timeStamp, nonce, encrypt);
        return decrypt(encrypt);
    }

    /** A passive reply: the encrypted, signed XML envelope. A null or "" timeStamp means now. */
    public String EncryptMsg(String replyMsg, String timeStamp, String nonce) throws AesException {
        byte[] random16 = new byte[16];
        RANDOM.nextBytes(random16);
        return EncryptMsg(replyMsg, timeStamp, nonce, random16);
    }

    /** The same with a fixed 16-byte random prefix: for test vectors only. */
    public String EncryptMsg(String replyMsg, String timeStamp, String nonce, byte[] random16)
            throws AesException {
        String stamp = timeStamp == null || timeStamp.isEmpty()
                ? Long.toString(System.currentTimeMillis() / 1000) : timeStamp;
        String encrypt = encrypt(replyMsg, random16);
        String signature = sign(stamp, nonce, encrypt);
        return "<xml><Encrypt>" + cdata(encrypt) + "</Encrypt><MsgSignature>" + cdata(signature)
                + "</MsgSignature><TimeStamp>" + stamp + "</TimeStamp><Nonce>" + cdata(nonce)
                + "</Nonce></xml>";
    }

    private static String cdata(String text) {
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>";
    }

    // msg_signature: the four parts sorted by code point (= UTF-8 byte order; String's
    // compareTo orders UTF-16 units, which differs beyond the BMP), joined, hashed.
    private String sign(String timeStamp, String nonce, String encrypt) throws AesException {
        byte[][] parts = {utf8(token), utf8(timeStamp), utf8(nonce), utf8(encrypt)};
        Arrays.sort(parts, Arrays::compareUnsigned);
        try {
            MessageDigest md = sm == null
                    ? MessageDigest.getInstance("SHA-1") : MessageDigest.getInstance("SM3", sm);
            for (byte[] part : parts) {
                md.update(part);
            }
            StringBuilder hex = new StringBuilder();
            for (byte b : md.digest()) {
                hex.append(String.format("%02x", b & 0xff));
            }
            return hex.toString();
        } catch (GeneralSecurityException e) {
            throw new AesException(AesException.ComputeSignatureError, "digest failed", e);
        }
    }

    private void checkSignature(String msgSignature, String timeStamp, String nonce, String encrypt)
            throws AesException {
        byte[] expected = utf8(sign(timeStamp, nonce, encrypt));
        byte[] given = utf8(msgSignature == null ? "" : msgSignature.toLowerCase(java.util.Locale.ROOT));
        if (!MessageDigest.isEqual(expected, given)) {
            throw new AesException(AesException.ValidateSignatureError, "msg_signature mismatch");
        }
    }

    private static byte[] utf8(String s) {
        return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
    }

    private byte[] cbc(int opmode, byte[] data) throws GeneralSecurityException {
        Cipher cipher;
        if (sm == null) {
            cipher = Cipher.getInstance("AES/CBC/NoPadding");
            cipher.init(opmode, new SecretKeySpec(key, "AES"),
                    new IvParameterSpec(Arrays.copyOfRange(key, 0, 16)));
        } else {
            cipher = Cipher.getInstance("SM4/CBC/NoPadding", sm);
            cipher.init(opmode, new SecretKeySpec(Arrays.copyOfRange(key, 0, 16), "SM4"),
                    new IvParameterSpec(Arrays.copyOfRange(key, 16, 32)));
        }
        return cipher.doFinal(data);
    }

    private String encrypt(String message, byte[] random16) throws AesException {
        if (random16 == null || random16.length != 16) {
            throw new AesException(AesException.EncryptAESError, "random prefix must be 16 bytes");
        }
        byte[] body = utf8(message);
        byte[] id = utf8(receiveId);
        int size = 20 + body.length + id.length;
        int amount = PAD_BLOCK - size % PAD_BLOCK;
        ByteBuffer plain = ByteBuffer.allocate(size + amount);
        plain.put(random16).putInt(body.length).put(body).put(id);
        for (int i = 0; i < amount; i++) {
            plain.put((byte) amount);
        }
        try {
            return Base64.getEncoder().encodeToString(cbc(Cipher.ENCRYPT_MODE, plain.array()));
        } catch (GeneralSecurityException e) {
            throw new AesException(AesException.EncryptAESError, "encryption failed", e);
        }
    }

    private String decrypt(String encrypt) throws AesException {
        if (encrypt == null || encrypt.length() % 4 != 0 || !BASE64.matcher(encrypt).matches()) {
            throw new AesException(AesException.DecodeBase64Error, "ciphertext is not base64");
        }
        byte[] data = Base64.getDecoder().decode(encrypt);
        if (data.length == 0 || data.length % 16 != 0) {
            throw new AesException(AesException.DecryptAESError, "ciphertext length is wrong");
        }
        byte[] plain;
        try {
            plain = cbc(Cipher.DECRYPT_MODE, data);
        } catch (GeneralSecurityException e) {
            throw new AesException(AesException.DecryptAESError, "decryption failed", e);
        }
        int amount = plain[plain.length - 1] & 0xff;
        if (amount < 1 || amount > PAD_BLOCK || amount > plain.length) {
            throw new AesException(AesException.IllegalBuffer, "bad padding");
        }
        int end = plain.length - amount;
        if (end < 20) {
            throw new AesException(AesException.IllegalBuffer, "plaintext too short");
        }
        long length = ByteBuffer.wrap(plain, 16, 4).getInt() & 0xffffffffL;
        if (20 + length > end) {
            throw new AesException(AesException.IllegalBuffer, "message length is wrong");
        }
        String message = strictUtf8(plain, 20, (int) length);
        String id = strictUtf8(plain, 20 + (int) length, end - 20 - (int) length);
        if (!id.equals(receiveId)) {
            throw new AesException(AesException.ValidateCorpidError, "receive id does not match");
        }
        return message;
    }

    private static String strictUtf8(byte[] data, int offset, int length) throws AesException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data, offset, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new AesException(AesException.IllegalBuffer, "plaintext is not UTF-8", e);
        }
    }

    // The text (before its first child element) of the root's last <Encrypt> child, as
    // Python's ElementTree gives it. DTDs are refused (no entity expansion, no XXE).
    private static String encryptField(String postData) throws AesException {
        if (postData == null || postData.contains("<!DOCTYPE") || postData.contains("<!ENTITY")) {
            throw new AesException(AesException.ParseXmlError, "no XML, or a DTD");
        }
        String found = null;
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setExpandEntityReferences(false);
            factory.setXIncludeAware(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(new DefaultHandler()); // throw, do not print
            Element root = builder
                    .parse(new InputSource(new StringReader(postData)))
                    .getDocumentElement();
            for (Node child = root.getFirstChild(); child != null; child = child.getNextSibling()) {
                if (child.getNodeType() == Node.ELEMENT_NODE && "Encrypt".equals(child.getNodeName())) {
                    StringBuilder text = new StringBuilder();
                    for (Node n = child.getFirstChild(); n != null; n = n.getNextSibling()) {
                        if (n.getNodeType() == Node.ELEMENT_NODE) {
                            break;
                        }
                        if (n.getNodeType() == Node.TEXT_NODE
                                || n.getNodeType() == Node.CDATA_SECTION_NODE) {
                            text.append(n.getNodeValue());
                        }
                    }
                    found = text.toString();
                }
            }
        } catch (Exception e) {
            throw new AesException(AesException.ParseXmlError, "bad XML: " + e.getMessage(), e);
        }
        if (found == null || found.isEmpty()) {
            throw new AesException(AesException.ParseXmlError, "no Encrypt element");
        }
        return found;
    }
}
