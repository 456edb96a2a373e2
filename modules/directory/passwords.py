# SPDX-License-Identifier: AGPL-3.0-or-later
"""Initial passwords: random, shown once (e-mail or admin API), stored as HMAC-SM3 only.

They do not need bcrypt: they are long random secrets that must be changed at first
login, and bcrypt at Synapse's cost would make 55,000 accounts take hours. The keyed hash
is checked by a password-auth-provider callback; the password the officer then chooses
is hashed by Synapse as usual, and from then on the initial password no longer works.
"""

import secrets
import string

from modules.common.gm import hmac_sm3

_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def derive_key(secret: bytes, purpose: str) -> bytes:
    """Separate keys per use from the one configured secret."""
    return hmac_sm3(secret, b"jwwx-directory:" + purpose.encode("ascii"))


def generate_initial_password(length: int) -> str:
    # Always letters and digits, so it passes the usual password rules.
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def password_mac(key: bytes, user_id: str, password: str) -> str:
    return hmac_sm3(key, f"{user_id}\x00{password}".encode()).hex()


def password_matches(key: bytes, user_id: str, password: str, stored_mac: str) -> bool:
    return secrets.compare_digest(password_mac(key, user_id, password), stored_mac)
