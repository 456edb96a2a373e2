// SPDX-License-Identifier: Apache-2.0
package cn.jwwx.callback;

/** A failed callback-crypto step, with WeCom's code (-40001 … -40011) and why. */
public class AesException extends Exception {
    public static final int ValidateSignatureError = -40001;
    public static final int ParseXmlError = -40002;
    public static final int ComputeSignatureError = -40003;
    public static final int IllegalAesKey = -40004;
    public static final int ValidateCorpidError = -40005;
    public static final int EncryptAESError = -40006;
    public static final int DecryptAESError = -40007;
    public static final int IllegalBuffer = -40008;
    public static final int EncodeBase64Error = -40009;
    public static final int DecodeBase64Error = -40010;
    public static final int GenReturnXmlError = -40011;

    private static final long serialVersionUID = 1L;

    private final int code;

    public AesException(int code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    AesException(int code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
    }

    public int getCode() {
        return code;
    }
}
