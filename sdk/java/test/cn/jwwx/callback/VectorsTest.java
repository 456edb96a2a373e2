// SPDX-License-Identifier: Apache-2.0
package cn.jwwx.callback;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every case of sdk/vectors.json through the Java library.
 *   java -cp out:/usr/share/java/bcprov.jar cn.jwwx.callback.VectorsTest ../vectors.json
 * Prints one line per failure and "java: N passed, N failed"; exits 1 on any failure.
 */
public final class VectorsTest {
    private VectorsTest() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: VectorsTest path/to/vectors.json");
            System.exit(2);
        }
        String text = new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8);
        @SuppressWarnings("unchecked")
        List<Object> cases = (List<Object>) ((Map<String, Object>) new Json(text).value()).get("cases");
        int passed = 0;
        int failed = 0;
        for (Object item : cases) {
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) item;
            int code = 0;
            String result = "";
            try {
                result = run(c);
            } catch (AesException e) {
                code = e.getCode();
                result = e.getMessage();
            }
            boolean ok = c.containsKey("error")
                    ? code == ((Long) c.get("error")).intValue()
                    : code == 0 && result.equals(c.get("result"));
            if (ok) {
                passed++;
            } else {
                failed++;
                System.out.println("FAIL " + c.get("name") + ": got code " + code + " result "
                        + result.substring(0, Math.min(80, result.length())));
            }
        }
        System.out.println("java: " + passed + " passed, " + failed + " failed");
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }

    private static String run(Map<String, Object> c) throws AesException {
        WXBizMsgCrypt crypt = new WXBizMsgCrypt(s(c, "token"), s(c, "encoding_aes_key"),
                s(c, "receive_id"), s(c, "mode"));
        switch (s(c, "op")) {
            case "new":
                return "";
            case "verify_url":
                return crypt.VerifyURL(s(c, "msg_signature"), s(c, "timestamp"), s(c, "nonce"),
                        s(c, "echostr"));
            case "decrypt_msg":
                return crypt.DecryptMsg(s(c, "msg_signature"), s(c, "timestamp"), s(c, "nonce"),
                        s(c, "post_data"));
            case "encrypt_msg":
                return crypt.EncryptMsg(s(c, "reply"), s(c, "timestamp"), s(c, "nonce"),
                        hex(s(c, "random16_hex")));
            default:
                throw new IllegalArgumentException("unknown op " + s(c, "op"));
        }
    }

    private static String s(Map<String, Object> c, String key) {
        return (String) c.get(key);
    }

    private static byte[] hex(String hex) {
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    /** Just enough JSON for the vectors file: objects, arrays, strings, integers. */
    private static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            space();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> map = new HashMap<>();
                i++;
                space();
                if (s.charAt(i) == '}') {
                    i++;
                    return map;
                }
                while (true) {
                    space();
                    String key = string();
                    space();
                    expect(':');
                    map.put(key, value());
                    space();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return map;
                }
            }
            if (c == '[') {
                List<Object> list = new ArrayList<>();
                i++;
                space();
                if (s.charAt(i) == ']') {
                    i++;
                    return list;
                }
                while (true) {
                    list.add(value());
                    space();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return list;
                }
            }
            if (c == '"') {
                return string();
            }
            int start = i;
            while (i < s.length() && (s.charAt(i) == '-' || Character.isDigit(s.charAt(i)))) {
                i++;
            }
            if (start == i) {
                throw new IllegalArgumentException("unexpected JSON at " + i);
            }
            return Long.parseLong(s.substring(start, i));
        }

        private void space() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private void expect(char c) {
            if (s.charAt(i) != c) {
                throw new IllegalArgumentException("expected " + c + " at " + i);
            }
            i++;
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (s.charAt(i) != '"') {
                char c = s.charAt(i++);
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': out.append('\n'); break;
                    case 't': out.append('\t'); break;
                    case 'r': out.append('\r'); break;
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'u':
                        out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default: out.append(e);
                }
            }
            i++;
            return out.toString();
        }
    }
}
