<?php
// SPDX-License-Identifier: Apache-2.0
// Runs every case of sdk/vectors.json through the PHP library, the "sm4" cases once with
// OpenSSL's SM4/SM3 (when this PHP's OpenSSL has them) and once with GmFallback.php.
//   php run_vectors.php ../../vectors.json
// Prints one line per failure and "php: N passed, N failed"; exits 1 on any failure.

require_once __DIR__ . '/../src/WXBizMsgCrypt.php';

use Jwwx\Callback\GmFallback;
use Jwwx\Callback\WXBizMsgCrypt;

/** [code, result] of one case. */
function run_case(array $c): array
{
    $crypt = new WXBizMsgCrypt($c['token'], $c['encoding_aes_key'], $c['receive_id'], $c['mode']);
    $out = '';
    switch ($c['op']) {
        case 'new':  // construction errors surface on the first call
            $ret = $crypt->EncryptMsg('', '1', 'n', $ignored);
            break;
        case 'verify_url':
            $ret = $crypt->VerifyURL($c['msg_signature'], $c['timestamp'], $c['nonce'], $c['echostr'], $out);
            break;
        case 'decrypt_msg':
            $ret = $crypt->DecryptMsg($c['msg_signature'], $c['timestamp'], $c['nonce'], $c['post_data'], $out);
            break;
        case 'encrypt_msg':
            $ret = $crypt->EncryptMsg($c['reply'], $c['timestamp'], $c['nonce'], $out, hex2bin($c['random16_hex']));
            break;
        default:
            throw new RuntimeException('unknown op ' . $c['op']);
    }
    return [$ret, $out];
}

if ($argc !== 2) {
    fwrite(STDERR, "usage: php run_vectors.php path/to/vectors.json\n");
    exit(2);
}
$cases = json_decode(file_get_contents($argv[1]), true, 512, JSON_THROW_ON_ERROR)['cases'];
$engines = GmFallback::opensslHasSm() ? ['openssl' => false, 'fallback' => true] : ['fallback' => true];
if (!GmFallback::opensslHasSm()) {
    echo "note: this PHP's OpenSSL has no sm4-cbc/sm3; sm4 cases use GmFallback.php only\n";
}
$passed = 0;
$failed = 0;
foreach ($engines as $engine => $force) {
    GmFallback::$force = $force;
    foreach ($cases as $c) {
        if ($engine === 'fallback' && $c['mode'] !== 'sm4' && GmFallback::opensslHasSm()) {
            continue;  // the AES cases need no second run
        }
        [$ret, $out] = run_case($c);
        $ok = array_key_exists('error', $c) ? $ret === $c['error'] : ($ret === 0 && $out === $c['result']);
        if ($ok) {
            $passed++;
            continue;
        }
        $failed++;
        echo "FAIL {$c['name']} ($engine): got code $ret result " . substr((string) $out, 0, 80) . "\n";
    }
}
echo "php: $passed passed, $failed failed\n";
exit($failed === 0 && $passed > 0 ? 0 : 1);
