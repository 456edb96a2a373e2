<?php
// SPDX-License-Identifier: Apache-2.0
// WeCom-compatible callback crypto (企业微信回调消息加解密) for 警务微信 apps, in PHP with the
// openssl extension. Two modes:
//   "aes": WeCom's own: AES-256-CBC, iv = key[:16], msg_signature = SHA-1 hex.
//   "sm4": the same framing with SM4-CBC (key = key32[:16], iv = key32[16:]) and SM3,
//          through OpenSSL when it has them, else GmFallback.php (plain PHP).
// The API follows WeCom's PHP WXBizMsgCrypt (VerifyURL, DecryptMsg, EncryptMsg, return
// codes -40001 … -40011 with results by reference); see README.md. Vectors: ../../vectors.json.

namespace Jwwx\Callback;

require_once __DIR__ . '/GmFallback.php';

/** WeCom's return codes (WXBizMsgCrypt errorCode.php). */
final class ErrorCode
{
    public static int $OK = 0;
    public static int $ValidateSignatureError = -40001;
    public static int $ParseXmlError = -40002;
    public static int $ComputeSignatureError = -40003;
    public static int $IllegalAesKey = -40004;
    public static int $ValidateCorpidError = -40005;
    public static int $EncryptAESError = -40006;
    public static int $DecryptAESError = -40007;
    public static int $IllegalBuffer = -40008;
    public static int $EncodeBase64Error = -40009;
    public static int $DecodeBase64Error = -40010;
    public static int $GenReturnXmlError = -40011;
}

final class WXBizMsgCrypt
{
    private const PAD_BLOCK = 32;

    private string $token;
    private string $receiveId;
    private string $mode;
    private string $key = '';
    private int $initError = 0;
    /** Why the last call failed ('' after a success). */
    public string $lastError = '';

    /**
     * $receiveId is the corpid for self-built apps; $mode is 'aes' (default) or 'sm4'.
     * A bad key or mode makes every call return ErrorCode::$IllegalAesKey.
     */
    public function __construct(string $token, string $encodingAesKey, string $receiveId, string $mode = 'aes')
    {
        $this->token = $token;
        $this->receiveId = $receiveId;
        $this->mode = $mode;
        if ($mode !== 'aes' && $mode !== 'sm4') {
            $this->initError = ErrorCode::$IllegalAesKey;
            $this->lastError = 'mode must be "aes" or "sm4"';
        } elseif (!preg_match('#^[A-Za-z0-9+/]{43}$#D', $encodingAesKey)) {
            $this->initError = ErrorCode::$IllegalAesKey;
            $this->lastError = 'EncodingAESKey must be 43 base64 characters';
        } else {
            $this->key = base64_decode($encodingAesKey . '=', true);
        }
    }

    /** URL verification (the GET): $sReplyEchoStr is the plaintext echostr to answer. */
    public function VerifyURL($sMsgSignature, $sTimeStamp, $sNonce, $sEchoStr, &$sReplyEchoStr): int
    {
        return $this->guard(function () use ($sMsgSignature, $sTimeStamp, $sNonce, $sEchoStr, &$sReplyEchoStr) {
            $this->checkSignature((string) $sMsgSignature, (string) $sTimeStamp, (string) $sNonce, (string) $sEchoStr);
            $sReplyEchoStr = $this->decrypt((string) $sEchoStr);
        });
    }

    /** A callback (the POST body): $sMsg is the plaintext XML message. */
    public function DecryptMsg($sMsgSignature, $sTimeStamp, $sNonce, $sPostData, &$sMsg): int
    {
        return $this->guard(function () use ($sMsgSignature, $sTimeStamp, $sNonce, $sPostData, &$sMsg) {
            $encrypt = FlatXml::field((string) $sPostData, 'Encrypt');
            if ($encrypt === null || $encrypt === '') {
                throw new CryptFailure(ErrorCode::$ParseXmlError, 'bad XML or no Encrypt element');
            }
            $this->checkSignature((string) $sMsgSignature, (string) $sTimeStamp, (string) $sNonce, $encrypt);
            $sMsg = $this->decrypt($encrypt);
        });
    }

    /**
     * A passive reply: $sEncryptMsg is the encrypted, signed XML envelope. A null or ''
     * $sTimeStamp means now; $random16 (16 bytes) is for test vectors only.
     */
    public function EncryptMsg($sReplyMsg, $sTimeStamp, $sNonce, &$sEncryptMsg, ?string $random16 = null): int
    {
        return $this->guard(function () use ($sReplyMsg, $sTimeStamp, $sNonce, &$sEncryptMsg, $random16) {
            $stamp = ($sTimeStamp === null || $sTimeStamp === '') ? (string) time() : (string) $sTimeStamp;
            $encrypt = $this->encrypt((string) $sReplyMsg, $random16 ?? random_bytes(16));
            $signature = $this->sign($stamp, (string) $sNonce, $encrypt);
            $sEncryptMsg = '<xml><Encrypt>' . self::cdata($encrypt) . '</Encrypt><MsgSignature>'
                . self::cdata($signature) . '</MsgSignature><TimeStamp>' . $stamp
                . '</TimeStamp><Nonce>' . self::cdata((string) $sNonce) . '</Nonce></xml>';
        });
    }

    private function guard(callable $call): int
    {
        if ($this->initError !== 0) {
            return $this->initError;
        }
        $this->lastError = '';
        try {
            $call();
            return ErrorCode::$OK;
        } catch (CryptFailure $e) {
            $this->lastError = $e->getMessage();
            return $e->getCode();
        }
    }

    private static function cdata(string $text): string
    {
        return '<![CDATA[' . str_replace(']]>', ']]]]><![CDATA[>', $text) . ']]>';
    }

    private function sign(string $timeStamp, string $nonce, string $encrypt): string
    {
        $parts = [$this->token, $timeStamp, $nonce, $encrypt];
        sort($parts, SORT_STRING);  // byte order = code point order for UTF-8
        $joined = implode('', $parts);
        if ($this->mode === 'aes') {
            return sha1($joined);
        }
        return GmFallback::useOpenssl() ? openssl_digest($joined, 'sm3') : bin2hex(GmFallback::sm3($joined));
    }

    private function checkSignature(string $msgSignature, string $timeStamp, string $nonce, string $encrypt): void
    {
        if (!hash_equals($this->sign($timeStamp, $nonce, $encrypt), strtolower($msgSignature))) {
            throw new CryptFailure(ErrorCode::$ValidateSignatureError, 'msg_signature mismatch');
        }
    }

    private function cbc(bool $encrypt, string $data): string
    {
        if ($this->mode === 'sm4' && !GmFallback::useOpenssl()) {
            return GmFallback::sm4Cbc($encrypt, substr($this->key, 0, 16), substr($this->key, 16), $data);
        }
        [$cipher, $key, $iv] = $this->mode === 'aes'
            ? ['aes-256-cbc', $this->key, substr($this->key, 0, 16)]
            : ['sm4-cbc', substr($this->key, 0, 16), substr($this->key, 16)];
        $flags = OPENSSL_RAW_DATA | OPENSSL_ZERO_PADDING;
        $out = $encrypt ? openssl_encrypt($data, $cipher, $key, $flags, $iv)
            : openssl_decrypt($data, $cipher, $key, $flags, $iv);
        if ($out === false) {
            throw $encrypt ? new CryptFailure(ErrorCode::$EncryptAESError, 'encryption failed')
                : new CryptFailure(ErrorCode::$DecryptAESError, 'decryption failed');
        }
        return $out;
    }

    private function encrypt(string $message, string $random16): string
    {
        if (strlen($random16) !== 16) {
            throw new CryptFailure(ErrorCode::$EncryptAESError, 'random prefix must be 16 bytes');
        }
        $plain = $random16 . pack('N', strlen($message)) . $message . $this->receiveId;
        $amount = self::PAD_BLOCK - strlen($plain) % self::PAD_BLOCK;
        return base64_encode($this->cbc(true, $plain . str_repeat(chr($amount), $amount)));
    }

    private function decrypt(string $encrypt): string
    {
        // Strict base64: alphabet, '=' only at the end, whole quanta.
        $data = preg_match('#^[A-Za-z0-9+/]*={0,2}$#D', $encrypt) && strlen($encrypt) % 4 === 0
            ? base64_decode($encrypt, true) : false;
        if ($data === false) {
            throw new CryptFailure(ErrorCode::$DecodeBase64Error, 'ciphertext is not base64');
        }
        if ($data === '' || strlen($data) % 16 !== 0) {
            throw new CryptFailure(ErrorCode::$DecryptAESError, 'ciphertext length is wrong');
        }
        $plain = $this->cbc(false, $data);
        $amount = ord($plain[strlen($plain) - 1]);
        if ($amount < 1 || $amount > self::PAD_BLOCK || $amount > strlen($plain)) {
            throw new CryptFailure(ErrorCode::$IllegalBuffer, 'bad padding');
        }
        $plain = substr($plain, 0, strlen($plain) - $amount);
        if (strlen($plain) < 20) {
            throw new CryptFailure(ErrorCode::$IllegalBuffer, 'plaintext too short');
        }
        $length = unpack('N', substr($plain, 16, 4))[1];
        if (20 + $length > strlen($plain)) {
            throw new CryptFailure(ErrorCode::$IllegalBuffer, 'message length is wrong');
        }
        $message = substr($plain, 20, $length);
        $receiveId = substr($plain, 20 + $length);
        if (!preg_match('//u', $message) || !preg_match('//u', $receiveId)) {
            throw new CryptFailure(ErrorCode::$IllegalBuffer, 'plaintext is not UTF-8');
        }
        if ($receiveId !== $this->receiveId) {
            throw new CryptFailure(ErrorCode::$ValidateCorpidError, 'receive id does not match');
        }
        return $message;
    }
}

/** @internal a failed step: the WeCom code and why. */
final class CryptFailure extends \Exception
{
    public function __construct(int $code, string $why)
    {
        parent::__construct($why, $code);
    }
}

/**
 * @internal A small XML reader for WeCom's flat callback bodies (no ext-xml needed):
 * well-formedness of elements, text, CDATA, comments, processing instructions,
 * attributes, predefined and numeric entities; no DTDs. field() gives the text (before
 * its first child element) of the root's last child with that tag, or null.
 */
final class FlatXml
{
    private string $doc;
    private int $pos = 0;
    private ?string $found = null;

    private function __construct(string $doc)
    {
        $this->doc = $doc;
    }

    public static function field(string $doc, string $tag): ?string
    {
        if (str_contains($doc, '<!DOCTYPE') || str_contains($doc, '<!ENTITY')) {
            return null;
        }
        $reader = new self($doc);
        $reader->skipMisc();
        if (!$reader->element(0, $tag, $rootTag, $rootText)) {
            return null;
        }
        $reader->skipMisc();
        return $reader->pos === strlen($doc) ? $reader->found : null;
    }

    private function at(string $s): bool
    {
        return substr_compare($this->doc, $s, $this->pos, strlen($s)) === 0;
    }

    private function skipUntil(string $end): bool
    {
        $at = strpos($this->doc, $end, $this->pos);
        if ($at === false) {
            return false;
        }
        $this->pos = $at + strlen($end);
        return true;
    }

    private function skipSpace(): void
    {
        $this->pos += strspn($this->doc, " \t\r\n", $this->pos);
    }

    private function skipMisc(): void
    {
        for (;;) {
            $this->skipSpace();
            if (!(($this->at('<?') && $this->skipUntil('?>')) || ($this->at('<!--') && $this->skipUntil('-->')))) {
                return;
            }
        }
    }

    private function name(): ?string
    {
        if (!preg_match('/\G[A-Za-z_:\x80-\xff][A-Za-z0-9_:.\-\x80-\xff]*/', $this->doc, $m, 0, $this->pos)) {
            return null;
        }
        $this->pos += strlen($m[0]);
        return $m[0];
    }

    private function entity(): ?string
    {
        if (!preg_match('/\G&(lt|gt|amp|quot|apos|#[0-9]{1,8}|#x[0-9A-Fa-f]{1,8});/', $this->doc, $m, 0, $this->pos)) {
            return null;
        }
        $this->pos += strlen($m[0]);
        $named = ['lt' => '<', 'gt' => '>', 'amp' => '&', 'quot' => '"', 'apos' => "'"];
        if (isset($named[$m[1]])) {
            return $named[$m[1]];
        }
        $cp = $m[1][1] === 'x' ? hexdec(substr($m[1], 2)) : (int) substr($m[1], 1);
        if ($cp === 0 || $cp > 0x10ffff || ($cp >= 0xd800 && $cp <= 0xdfff)) {
            return null;
        }
        return self::utf8($cp);
    }

    private static function utf8(int $cp): string
    {
        if ($cp < 0x80) {
            return chr($cp);
        }
        if ($cp < 0x800) {
            return chr(0xc0 | ($cp >> 6)) . chr(0x80 | ($cp & 63));
        }
        if ($cp < 0x10000) {
            return chr(0xe0 | ($cp >> 12)) . chr(0x80 | (($cp >> 6) & 63)) . chr(0x80 | ($cp & 63));
        }
        return chr(0xf0 | ($cp >> 18)) . chr(0x80 | (($cp >> 12) & 63)) . chr(0x80 | (($cp >> 6) & 63)) . chr(0x80 | ($cp & 63));
    }

    /** One element at the cursor; depth 0 is the root, whose children are looked up. */
    private function element(int $depth, string $want, ?string &$tag, ?string &$text): bool
    {
        $text = '';
        if ($depth > 64 || !$this->at('<')) {
            return false;
        }
        $this->pos++;
        $tag = $this->name();
        if ($tag === null) {
            return false;
        }
        for (;;) {  // attributes, ignored
            $before = $this->pos;
            $this->skipSpace();
            if ($this->at('/>')) {
                $this->pos += 2;
                return true;
            }
            if ($this->at('>')) {
                $this->pos++;
                break;
            }
            if ($this->pos === $before || $this->name() === null
                || !preg_match('/\G\s*=\s*("[^"]*"|\'[^\']*\')/', $this->doc, $m, 0, $this->pos)) {
                return false;
            }
            $this->pos += strlen($m[0]);
        }
        $sawChild = false;
        $length = strlen($this->doc);
        while ($this->pos < $length) {
            if ($this->at('</')) {
                $this->pos += 2;
                if ($this->name() !== $tag) {
                    return false;
                }
                $this->skipSpace();
                if (!$this->at('>')) {
                    return false;
                }
                $this->pos++;
                return true;
            }
            if ($this->at('<![CDATA[')) {
                $end = strpos($this->doc, ']]>', $this->pos + 9);
                if ($end === false) {
                    return false;
                }
                if (!$sawChild) {
                    $text .= substr($this->doc, $this->pos + 9, $end - $this->pos - 9);
                }
                $this->pos = $end + 3;
            } elseif ($this->at('<!--')) {
                if (!$this->skipUntil('-->')) {
                    return false;
                }
            } elseif ($this->at('<?')) {
                if (!$this->skipUntil('?>')) {
                    return false;
                }
            } elseif ($this->at('<')) {
                if (!$this->element($depth + 1, $want, $childTag, $childText)) {
                    return false;
                }
                if ($depth === 0 && $childTag === $want) {
                    $this->found = $childText;
                }
                $sawChild = true;
            } elseif ($this->at('&')) {
                $decoded = $this->entity();
                if ($decoded === null) {
                    return false;
                }
                if (!$sawChild) {
                    $text .= $decoded;
                }
            } else {
                $run = strcspn($this->doc, '<&', $this->pos);
                if (!$sawChild) {
                    $text .= substr($this->doc, $this->pos, $run);
                }
                $this->pos += $run;
            }
        }
        return false;
    }
}
