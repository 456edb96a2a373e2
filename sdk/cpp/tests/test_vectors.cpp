// SPDX-License-Identifier: Apache-2.0
// Runs every case of sdk/vectors.json through the C++ library.
//   g++ -std=c++17 -I.. ../WXBizMsgCrypt.cpp test_vectors.cpp -lcrypto && ./a.out ../../vectors.json
// Prints one line per failure and "cpp: N passed, N failed"; exits 1 on any failure.
#include "WXBizMsgCrypt.h"

#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Just enough JSON for the vectors file: objects, arrays, strings, integers.
struct Json {
    enum Kind { Null, Number, String, Array, Object } kind = Null;
    long long number = 0;
    std::string text;
    std::vector<Json> items;
    std::map<std::string, Json> fields;

    bool Has(const std::string &k) const { return fields.count(k) > 0; }
    const std::string &Str(const std::string &k) const { return fields.at(k).text; }
};

class JsonReader {
public:
    explicit JsonReader(const std::string &s) : m_s(s) {}

    Json Value() {
        Space();
        Json v;
        char c = Peek();
        if (c == '{') {
            v.kind = Json::Object;
            m_i++;
            Space();
            if (Peek() == '}') { m_i++; return v; }
            for (;;) {
                Space();
                std::string key = String();
                Space();
                Expect(':');
                v.fields[key] = Value();
                Space();
                if (Peek() == ',') { m_i++; continue; }
                Expect('}');
                return v;
            }
        }
        if (c == '[') {
            v.kind = Json::Array;
            m_i++;
            Space();
            if (Peek() == ']') { m_i++; return v; }
            for (;;) {
                v.items.push_back(Value());
                Space();
                if (Peek() == ',') { m_i++; continue; }
                Expect(']');
                return v;
            }
        }
        if (c == '"') {
            v.kind = Json::String;
            v.text = String();
            return v;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t used = 0;
            v.kind = Json::Number;
            v.number = std::stoll(m_s.substr(m_i), &used);
            m_i += used;
            return v;
        }
        throw std::runtime_error("unexpected JSON at " + std::to_string(m_i));
    }

private:
    char Peek() const { return m_i < m_s.size() ? m_s[m_i] : '\0'; }
    void Space() { while (m_i < m_s.size() && isspace(static_cast<unsigned char>(m_s[m_i]))) m_i++; }
    void Expect(char c) {
        if (Peek() != c) throw std::runtime_error(std::string("expected ") + c);
        m_i++;
    }
    unsigned Hex4() {
        unsigned v = std::stoul(m_s.substr(m_i, 4), nullptr, 16);
        m_i += 4;
        return v;
    }
    static void Utf8(uint32_t cp, std::string &out) {
        if (cp < 0x80) out += static_cast<char>(cp);
        else if (cp < 0x800) { out += static_cast<char>(0xc0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 63)); }
        else if (cp < 0x10000) { out += static_cast<char>(0xe0 | (cp >> 12)); out += static_cast<char>(0x80 | ((cp >> 6) & 63)); out += static_cast<char>(0x80 | (cp & 63)); }
        else { out += static_cast<char>(0xf0 | (cp >> 18)); out += static_cast<char>(0x80 | ((cp >> 12) & 63)); out += static_cast<char>(0x80 | ((cp >> 6) & 63)); out += static_cast<char>(0x80 | (cp & 63)); }
    }
    std::string String() {
        Expect('"');
        std::string out;
        while (Peek() != '"') {
            char c = m_s.at(m_i++);
            if (c != '\\') { out += c; continue; }
            char e = m_s.at(m_i++);
            switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u': {
                    uint32_t cp = Hex4();
                    if (cp >= 0xd800 && cp < 0xdc00 && m_s.compare(m_i, 2, "\\u") == 0) {
                        m_i += 2;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (Hex4() - 0xdc00);
                    }
                    Utf8(cp, out);
                    break;
                }
                default: out += e;
            }
        }
        m_i++;
        return out;
    }

    const std::string &m_s;
    size_t m_i = 0;
};

std::string FromHex(const std::string &hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

// (code, result) of one case.
std::pair<int, std::string> Run(const Json &c) {
    jwwx::WXBizMsgCrypt crypt(c.Str("token"), c.Str("encoding_aes_key"), c.Str("receive_id"),
                              c.Str("mode"));
    const std::string &op = c.Str("op");
    std::string out;
    int ret;
    if (op == "new") {
        // Construction errors surface on the first call.
        ret = crypt.EncryptMsg("", "1", "n", out);
        out.clear();
    } else if (op == "verify_url") {
        ret = crypt.VerifyURL(c.Str("msg_signature"), c.Str("timestamp"), c.Str("nonce"),
                              c.Str("echostr"), out);
    } else if (op == "decrypt_msg") {
        ret = crypt.DecryptMsg(c.Str("msg_signature"), c.Str("timestamp"), c.Str("nonce"),
                               c.Str("post_data"), out);
    } else if (op == "encrypt_msg") {
        ret = crypt.EncryptMsg(c.Str("reply"), c.Str("timestamp"), c.Str("nonce"), out,
                               FromHex(c.Str("random16_hex")));
    } else {
        throw std::runtime_error("unknown op " + op);
    }
    return {ret, out};
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: test_vectors path/to/vectors.json\n";
        return 2;
    }
    std::ifstream file(argv[1], std::ios::binary);
    std::stringstream buffer;
    buffer << file.rdbuf();
    std::string text = buffer.str();
    Json root = JsonReader(text).Value();
    int passed = 0, failed = 0;
    for (const Json &c : root.fields.at("cases").items) {
        std::pair<int, std::string> got = Run(c);
        bool ok = c.Has("error") ? got.first == c.fields.at("error").number
                                 : got.first == 0 && got.second == c.Str("result");
        if (ok) {
            passed++;
            continue;
        }
        failed++;
        std::cout << "FAIL " << c.Str("name") << ": got code " << got.first << " result "
                  << got.second.substr(0, 80) << "\n";
    }
    std::cout << "cpp: " << passed << " passed, " << failed << " failed\n";
    return failed == 0 && passed > 0 ? 0 : 1;
}
