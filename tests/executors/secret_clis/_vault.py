"""The made-up vault every stand-in CLI here serves (test data only; nothing real).

VALUES are what a password manager may hold: quotes, spaces, backslashes, line breaks,
non-ASCII. DOLLAR holds a ``$`` (Kamal 2.11 expands it after reading the value; backstaff
keeps it)."""

from __future__ import annotations

VALUES = {
    "DB_PASSWORD": 'it\'s "quoted" and  spaced ',
    "API_KEY": "back\\slash\\ and `tick` ; | & < > * ? [x] {y} ~ # !",
    "CERT": "-----BEGIN-----\nline two\twith tab\n-----END-----",
    "UNICODE": "pässwörd ✓ 日本",
}
DOLLAR = {"DOLLAR": "pa$$word $HOME ${PATH} \\$x"}
ALL = {**VALUES, **DOLLAR}
