"""Batch codes: random (not guessable from neighbours) with an ISO 7064 MOD 37-2 check character.

python-stdnum's MOD 37,36 gives a check character in 0-9A-Z, so a mistyped character is caught.
"""

from __future__ import annotations

import secrets

from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
PREFIX = "ZW"
BODY_LENGTH = 11  # 55 random bits


def batch_code_new() -> str:
    body = PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + mod_37_36.calc_check_digit(body)


def batch_code_normalise(raw: str) -> str:
    return (raw or "").strip().upper().replace("-", "").replace(" ", "")


def batch_code_valid(code: str) -> bool:
    return (
        len(code) == len(PREFIX) + BODY_LENGTH + 1
        and code.startswith(PREFIX)
        and all(c in ALPHABET for c in code[len(PREFIX) : -1])
        and mod_37_36.is_valid(code)
    )
