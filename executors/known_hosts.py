"""known_hosts read the way OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT", and
OpenSSH's hostfile.c and match.c, which ``ssh`` and ``ssh-keygen -F`` share).

A line is ``[marker] hostnames keytype base64-key [comment]``:

- ``hostnames`` is a comma list of patterns (``*`` any run of characters, ``?`` one character,
  ``!pattern`` a negation: a host matching a negated pattern is not covered by the line even if
  another pattern of it matches); a host on a port other than 22 is written ``[host]:port``
  (brackets are plain characters, so ``[10.0.0.*]:2222`` is a pattern too); or one hashed name
  ``|1|base64-salt|base64-HMAC-SHA1(salt, name)``. Names compare case-insensitively (ASCII).
- ``@revoked``: the key is refused for the hosts the line covers, whatever other lines say.
- ``@cert-authority``: the key is a certificate authority; it never accepts a plain host key.
- Blank lines and ``#`` comments are skipped; malformed lines (an unknown marker, a missing or
  undecodable key, a key whose type is not the one written, a bad hash) are ignored, as OpenSSH
  ignores them.

What ``lookup`` returns for a host says, like OpenSSH's ``check_key_in_hostkeys``, whether a
presented key is known, new (no line covers the host), changed (a line covers the host with
another key, of any type), revoked, or only vouched for by a certificate authority.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import hashlib
import hmac
import os
import re
import struct
from dataclasses import dataclass, field

import paramiko

HASH_MAGIC = "|1|"
CA_MARKER = "@cert-authority"
REVOKED_MARKER = "@revoked"
_SUBPATTERN_MAX = 1023  # match.c: a longer comma-separated pattern makes the whole list fail

# Key type names OpenSSH's sshkey_read accepts (sshkey.c), with the key type their blob holds.
_PLAIN_TYPES = (
    "ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ssh-rsa", "ssh-dss",
    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-xmss@openssh.com",
)  # fmt: skip
_CERT_TYPES = tuple(f"{n.removesuffix('@openssh.com')}-cert-v01@openssh.com" for n in _PLAIN_TYPES)
_BLOB_TYPE = {name: name for name in _PLAIN_TYPES + _CERT_TYPES} | {
    "rsa-sha2-256": "ssh-rsa",
    "rsa-sha2-512": "ssh-rsa",
    "rsa-sha2-256-cert-v01@openssh.com": "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com": "ssh-rsa-cert-v01@openssh.com",
}
# Key types paramiko can load as a host key (others are compared by their bytes only).
_PARAMIKO_TYPES = frozenset(
    ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")
)
# The host key algorithms paramiko may negotiate for a key type recorded in known_hosts.
_ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}
ALL_HOST_KEY_ALGORITHMS = (
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-dss",
)  # fmt: skip


class KnownHostsError(Exception):
    """The known_hosts file cannot be read or written; the message names it."""


class Verdict(enum.Enum):
    KNOWN = "known"  # a line covering the host holds this very key
    NEW = "new"  # no line covers the host: trust on first use may record it
    CHANGED = "changed"  # lines cover the host, none with this key
    REVOKED = "revoked"  # an @revoked line covering the host lists this key
    CERTIFICATES_ONLY = "certificates only"  # only @cert-authority lines cover the host


@dataclass(frozen=True)
class Entry:
    """One well-formed line (its key not yet checked: see ``valid``)."""

    line: int
    marker: str  # "", CA_MARKER or REVOKED_MARKER
    hosts: str  # the host field as written
    key_type: str
    blob: bytes

    @property
    def hashed(self) -> bool:
        return self.hosts.startswith("|")

    @property
    def is_pattern(self) -> bool:
        """True when the line may cover other hosts too (a list, a wildcard or a negation)."""
        return not self.hashed and any(c in self.hosts for c in ",*?!")

    def matches(self, name: str) -> bool:
        """Whether the line covers ``name`` (``host`` or ``[host]:port``, lower case)."""
        if self.hashed:
            return _hashed_matches(name, self.hosts)
        return match_pattern_list(name, self.hosts) == 1

    @functools.cached_property
    def key(self) -> paramiko.PKey | None:
        """The key as paramiko's, or None when paramiko does not know its type."""
        blob_type = _BLOB_TYPE.get(self.key_type, "")
        if blob_type not in _PARAMIKO_TYPES:
            return None
        try:
            return paramiko.PKey.from_type_string(blob_type, self.blob)
        except Exception:  # any malformed key: paramiko raises several kinds
            return None

    @functools.cached_property
    def valid(self) -> bool:
        """Whether the key parses, as OpenSSH requires of a line it uses (sshkey_read)."""
        blob_type = _BLOB_TYPE.get(self.key_type)
        if blob_type is None or _blob_type(self.blob) != blob_type:
            return False
        return blob_type not in _PARAMIKO_TYPES or self.key is not None

    @property
    def canonical_blob(self) -> bytes:
        key = self.key
        return key.asbytes() if key is not None else self.blob


@dataclass(frozen=True)
class HostKeys:
    """The lines of a known_hosts file that cover one host name, by kind."""

    name: str
    known: tuple[Entry, ...] = ()  # plain lines
    revoked: tuple[Entry, ...] = ()
    authorities: tuple[Entry, ...] = ()

    def verdict(self, key: paramiko.PKey) -> Verdict:
        blob = key.asbytes()
        if any(entry.canonical_blob == blob for entry in self.revoked):
            return Verdict.REVOKED
        if any(entry.canonical_blob == blob for entry in self.known):
            return Verdict.KNOWN
        if self.known:
            return Verdict.CHANGED
        if self.authorities:
            return Verdict.CERTIFICATES_ONLY
        return Verdict.NEW

    def disabled_algorithms(self) -> list[str]:
        """The host key algorithms to turn off so that the server presents a key of a type
        recorded for it (OpenSSH prefers the recorded types the same way); none when nothing
        usable is recorded."""
        allowed: set[str] = set()
        for entry in self.known:
            blob_type = _BLOB_TYPE.get(entry.key_type, entry.key_type)
            allowed.update(_ALGORITHMS.get(blob_type, (blob_type,)))
        if not allowed & set(ALL_HOST_KEY_ALGORITHMS):
            return []
        return [name for name in ALL_HOST_KEY_ALGORITHMS if name not in allowed]


@dataclass
class KnownHostsFile:
    """A parsed known_hosts file with an index of its literal names, so that looking up each of
    hundreds of hosts stays cheap; lookups are remembered until the next ``add``."""

    entries: list[Entry] = field(default_factory=list)
    lines: int = 0
    _literal: dict[str, list[Entry]] = field(default_factory=dict)
    _others: list[Entry] = field(default_factory=list)
    _lookups: dict[str, HostKeys] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> KnownHostsFile:
        parsed = cls()
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for number, line in enumerate(lines, start=1):
            entry = parse_line(line, number)
            if entry is not None:
                parsed._index(entry)
        parsed.lines = len(lines)
        return parsed

    def add(self, entry: Entry) -> None:
        self._index(entry)
        self.lines = max(self.lines, entry.line)
        self._lookups.clear()

    def lookup(self, name: str) -> HostKeys:
        name = normalize(name)
        found = self._lookups.get(name)
        if found is None:
            candidates = self._literal.get(name, []) + self._others
            matching = sorted(
                (e for e in candidates if e.matches(name) and e.valid), key=lambda e: e.line
            )
            found = HostKeys(
                name,
                known=tuple(e for e in matching if e.marker == ""),
                revoked=tuple(e for e in matching if e.marker == REVOKED_MARKER),
                authorities=tuple(e for e in matching if e.marker == CA_MARKER),
            )
            self._lookups[name] = found
        return found

    def _index(self, entry: Entry) -> None:
        self.entries.append(entry)
        names = _subpatterns(entry.hosts)
        if (
            entry.hashed
            or any(c in entry.hosts for c in "*?!")
            or any(len(n) >= _SUBPATTERN_MAX for n in names)
        ):
            self._others.append(entry)  # matched one by one at lookup
            return
        for host in {_lower(n) for n in names}:
            self._literal.setdefault(host, []).append(entry)


def parse_line(line: str, number: int) -> Entry | None:
    """One line as OpenSSH's hostkeys_foreach reads it; None for comments and bad lines."""
    rest = line.lstrip(" \t")
    if not rest or rest.startswith("#"):
        return None
    marker = ""
    if rest.startswith("@"):
        word, rest = _split_field(rest)
        if word not in (CA_MARKER, REVOKED_MARKER) or not rest or rest.startswith("@"):
            return None
        marker = word
    hosts, rest = _split_field(rest)
    key_type, rest = _split_field(rest)
    encoded, _ = _split_field(rest)
    if not key_type or key_type.startswith("#") or not encoded or encoded.startswith("#"):
        return None
    if key_type not in _BLOB_TYPE:
        return None
    try:
        blob = base64.b64decode(re.sub(r"[\r\n\v\f]", "", encoded).encode("latin-1"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return Entry(number, marker, hosts, key_type, blob)


def _split_field(text: str) -> tuple[str, str]:
    """The text up to the first space or tab, and the rest after the blanks that follow."""
    end = len(text)
    for blank in " \t":
        found = text.find(blank)
        if found != -1:
            end = min(end, found)
    return text[:end], text[end:].lstrip(" \t")


def _blob_type(blob: bytes) -> str | None:
    if len(blob) < 4:
        return None
    (length,) = struct.unpack(">I", blob[:4])
    if len(blob) < 4 + length:
        return None
    return blob[4 : 4 + length].decode("latin-1")


def host_name(host: str, port: int) -> str:
    """How known_hosts names ``host`` on ``port``: ``host`` for 22, else ``[host]:port``."""
    host = _lower(host)
    return host if port == 22 else f"[{host}]:{port}"


def normalize(name: str) -> str:
    """A host name as ssh looks it up: ASCII lower case, non-ASCII as its UTF-8 bytes."""
    return _lower(name.encode("utf-8").decode("latin-1"))


_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lower(text: str) -> str:
    return text.translate(_LOWER)


def match_pattern(name: str, pattern: str) -> bool:
    """match.c's match_pattern: ``*`` any run of characters, ``?`` any one, all else literal.
    A pattern without either is compared as it is: most are a host's own name, and compiling
    each into an expression cost more than the rest of a lookup."""
    if "*" not in pattern and "?" not in pattern:
        return name == pattern
    return _compiled(pattern).fullmatch(name) is not None


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def match_pattern_list(name: str, patterns: str) -> int:
    """match.c's match_pattern_list: 1 if a pattern of the comma list matches, -1 if a negated
    one does (whatever else matched), 0 otherwise. Both sides compare in lower case."""
    name = _lower(name)
    positive = 0
    for sub in _subpatterns(patterns):
        negated = sub.startswith("!")
        sub = sub[1:] if negated else sub
        if len(sub) >= _SUBPATTERN_MAX:
            return 0
        if match_pattern(name, _lower(sub)):
            if negated:
                return -1
            positive = 1
    return positive


def _subpatterns(patterns: str) -> list[str]:
    """The comma list as match.c walks it: a final comma ends the list, other empty elements
    are empty patterns (which match only an empty name)."""
    subs = patterns.split(",")
    if subs[-1] == "":
        subs.pop()
    return subs


def hash_name(name: str, salt: bytes | None = None) -> str:
    """``|1|salt|hash`` for ``name``, as ``ssh-keygen -H`` and HashKnownHosts write it."""
    salt = os.urandom(20) if salt is None else salt
    digest = hmac.new(salt, name.encode("latin-1"), hashlib.sha1).digest()
    return f"{HASH_MAGIC}{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def _hashed_matches(name: str, hashed: str) -> bool:
    """hostfile.c's match_maybe_hashed: the salt is taken from the entry, the name hashed with
    it, and the result compared with the whole field (a malformed one matches nothing)."""
    if not hashed.startswith(HASH_MAGIC):
        return False
    encoded_salt, separator, _ = hashed[len(HASH_MAGIC) :].partition("|")
    if not separator or not 0 < len(encoded_salt) <= 1024:
        return False
    try:
        salt = base64.b64decode(encoded_salt.encode("latin-1"), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(salt) != hashlib.sha1().digest_size:
        return False
    return hmac.compare_digest(hash_name(name, salt), hashed)
