<?php
// SPDX-License-Identifier: Apache-2.0
// SM4-CBC (GB/T 32907-2016) and SM3 (GB/T 32905-2016) in plain PHP, for PHP builds whose
// OpenSSL lacks them (OpenSSL < 1.1.1, or builds configured without SM4/SM3, as some
// distributions ship). WXBizMsgCrypt uses OpenSSL when it has them and this otherwise.
// Not constant-time (table look-ups): prefer an OpenSSL with SM4 where that matters.

namespace Jwwx\Callback;

final class GmFallback
{
    /** Set to true to use this file even when OpenSSL has SM4/SM3 (the tests do). */
    public static bool $force = false;

    private const SBOX_HEX = 'd690e9fecce13db716b614c228fb2c052b679a762abe04c3aa441326498606999c4250f491ef987a33540b43edcfac62e4b31ca9c908e89580df94fa758f3fa64707a7fcf37317ba83593c19e6854fa8686b81b27164da8bf8eb0f4b70569d351e240e5e6358d1a225227c3b01217887d40046579fd327524c3602e7a0c4c89eeabf8ad240c738b5a3f7f2cef96115a1e0ae5da49b341a55ad933230f58cb1e31df6e22e8266ca60c02923ab0d534e6fd5db3745defd8e2f03ff6a726d6c5b518d1baf92bbddbc7f11d95c411f105ad80ac13188a5cd7bbd2d74d012b8e5b4b08969974a0c96777e65b9f109c56ec68418f07dec3adc4d2079ee5f3ed7cb3948';
    private const FK = [0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc];

    private static ?array $sbox = null;

    public static function opensslHasSm(): bool
    {
        return in_array('sm4-cbc', openssl_get_cipher_methods(), true)
            && in_array('sm3', openssl_get_md_methods(), true);
    }

    public static function useOpenssl(): bool
    {
        return !self::$force && self::opensslHasSm();
    }

    private static function rotl(int $x, int $n): int
    {
        return (($x << $n) | ($x >> (32 - $n))) & 0xffffffff;
    }

    private static function tau(int $a): int
    {
        $s = self::$sbox;
        return ($s[($a >> 24) & 255] << 24) | ($s[($a >> 16) & 255] << 16)
            | ($s[($a >> 8) & 255] << 8) | $s[$a & 255];
    }

    /** The 32 round keys of a 16-byte key. */
    private static function roundKeys(string $key): array
    {
        if (self::$sbox === null) {
            self::$sbox = array_values(unpack('C*', hex2bin(self::SBOX_HEX)));
        }
        $mk = array_values(unpack('N4', $key));
        $k = [];
        for ($i = 0; $i < 4; $i++) {
            $k[$i] = $mk[$i] ^ self::FK[$i];
        }
        $rk = [];
        for ($i = 0; $i < 32; $i++) {
            $ck = 0;
            for ($j = 0; $j < 4; $j++) {
                $ck = ($ck << 8) | ((4 * $i + $j) * 7 & 255);
            }
            $b = self::tau($k[$i + 1] ^ $k[$i + 2] ^ $k[$i + 3] ^ $ck);
            $k[$i + 4] = $k[$i] ^ $b ^ self::rotl($b, 13) ^ self::rotl($b, 23);
            $rk[$i] = $k[$i + 4];
        }
        return $rk;
    }

    private static function block(array $rk, string $in): string
    {
        $x = array_values(unpack('N4', $in));
        for ($i = 0; $i < 32; $i++) {
            $b = self::tau($x[$i + 1] ^ $x[$i + 2] ^ $x[$i + 3] ^ $rk[$i]);
            $x[$i + 4] = $x[$i] ^ $b ^ self::rotl($b, 2) ^ self::rotl($b, 10)
                ^ self::rotl($b, 18) ^ self::rotl($b, 24);
        }
        return pack('N4', $x[35], $x[34], $x[33], $x[32]);
    }

    /** SM4-CBC without padding; strlen($data) must be a multiple of 16. */
    public static function sm4Cbc(bool $encrypt, string $key, string $iv, string $data): string
    {
        $rk = self::roundKeys($key);
        if (!$encrypt) {
            $rk = array_reverse($rk);
        }
        $out = '';
        $prev = $iv;
        for ($at = 0; $at < strlen($data); $at += 16) {
            $chunk = substr($data, $at, 16);
            if ($encrypt) {
                $prev = self::block($rk, $chunk ^ $prev);
                $out .= $prev;
            } else {
                $out .= self::block($rk, $chunk) ^ $prev;
                $prev = $chunk;
            }
        }
        return $out;
    }

    /** SM3 digest (32 raw bytes). */
    public static function sm3(string $message): string
    {
        $v = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600,
              0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];
        $bits = strlen($message) * 8;
        $message .= "\x80" . str_repeat("\0", (55 - strlen($message)) & 63)
            . pack('NN', ($bits >> 32) & 0xffffffff, $bits & 0xffffffff);
        for ($at = 0; $at < strlen($message); $at += 64) {
            $w = array_values(unpack('N16', substr($message, $at, 64)));
            for ($j = 16; $j < 68; $j++) {
                $x = $w[$j - 16] ^ $w[$j - 9] ^ self::rotl($w[$j - 3], 15);
                $w[$j] = $x ^ self::rotl($x, 15) ^ self::rotl($x, 23)
                    ^ self::rotl($w[$j - 13], 7) ^ $w[$j - 6];
            }
            [$a, $b, $c, $d, $e, $f, $g, $h] = $v;
            for ($j = 0; $j < 64; $j++) {
                $t = $j < 16 ? 0x79cc4519 : 0x7a879d8a;
                $a12 = self::rotl($a, 12);
                $ss1 = self::rotl(($a12 + $e + self::rotl($t, $j % 32)) & 0xffffffff, 7);
                $ss2 = $ss1 ^ $a12;
                $ff = $j < 16 ? $a ^ $b ^ $c : ($a & $b) | ($a & $c) | ($b & $c);
                $gg = $j < 16 ? $e ^ $f ^ $g : ($e & $f) | ((~$e & 0xffffffff) & $g);
                $tt1 = ($ff + $d + $ss2 + ($w[$j] ^ $w[$j + 4])) & 0xffffffff;
                $tt2 = ($gg + $h + $ss1 + $w[$j]) & 0xffffffff;
                $d = $c;
                $c = self::rotl($b, 9);
                $b = $a;
                $a = $tt1;
                $h = $g;
                $g = self::rotl($f, 19);
                $f = $e;
                $e = $tt2 ^ self::rotl($tt2, 9) ^ self::rotl($tt2, 17);
            }
            foreach ([$a, $b, $c, $d, $e, $f, $g, $h] as $i => $x) {
                $v[$i] ^= $x;
            }
        }
        return pack('N8', ...$v);
    }
}
