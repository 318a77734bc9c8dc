"""known_hosts is read as OpenSSH reads it, parsed once per process, and new keys are appended.

The matcher is compared, case by case, with OpenSSH's own lookup (``ssh-keygen -l -F``, which
shares ssh's hostfile.c and parses the keys as ssh does), on plain and on ``ssh-keygen -H``
hashed files. The policy and the connection are exercised against a paramiko server on
loopback (no test bed).
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backstaff.executors.known_hosts import (
    KnownHostsFile,
    Verdict,
    _compiled,
    hash_name,
    host_name,
    match_pattern,
    match_pattern_list,
)
from backstaff.executors.ssh import (
    HostKeyRefused,
    SshConnection,
    SshError,
    _KnownHostsCache,
    _KnownHostsPolicy,
)
from backstaff.planner.model import SshSettings

OTHER = "10.0.0.9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJhZ/y3zFGdikMR1hkcckMzXvJy15oOhZNRzBkeuTGUj"
needs_ssh_keygen = pytest.mark.skipif(not shutil.which("ssh-keygen"), reason="needs ssh-keygen")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, paramiko.PKey]:
    """Two ed25519 keys made by ssh-keygen, an RSA and two ECDSA keys made by paramiko."""
    found: dict[str, paramiko.PKey] = {}
    directory = tmp_path_factory.mktemp("keys")
    for name in ("k1", "k2"):
        if shutil.which("ssh-keygen"):
            path = directory / name
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                           check=True)  # fmt: skip
            key_type, data = path.with_suffix(".pub").read_text().split()[:2]
            found[name] = paramiko.PKey.from_type_string(key_type, base64.b64decode(data))
        else:
            found[name] = paramiko.ECDSAKey.generate()
    found["k3"] = paramiko.RSAKey.generate(1024)
    found["k4"] = paramiko.ECDSAKey.generate()
    found["k5"] = paramiko.ECDSAKey.generate()
    return found


def _public(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.get_base64()}"


# ---------------------------------------------------------------------------------------------
# The same lines as ssh-keygen -F finds


def _table(keys: dict[str, paramiko.PKey]) -> list[str]:
    k1, k2, k3 = _public(keys["k1"]), _public(keys["k2"]), _public(keys["k3"])
    rsa_blob_as_ed25519 = "ssh-ed25519 " + keys["k3"].get_base64()
    return [
        f"web1.example.com {k1}",
        f"*.example.com {k2}",
        f"10.0.0.? {k1}",
        f"10.0.1.*,!10.0.1.5 {k2}",
        f"!10.0.2.7,10.0.2.* {k3}",
        f"db.internal,cache.internal {k1} a comment",
        f"[10.0.0.1]:2222 {k2}",
        f"[10.0.3.*]:2222 {k3}",
        f"[*.example.org]:* {k1}",
        f"*ample.net {k1}",
        f"Mixed.Case.COM {k2}",
        f"a*b?c.test {k3}",
        "# a comment line",
        "",
        f"   indented.example {k1}",
        f"tabbed.example\t{k1.replace(' ', chr(9))}",
        f"crlf.example {k1}\r",
        f"spaced.example    {k2}   trailing",
        f"@revoked revoked.example,*.example.com {k3}",
        f"@cert-authority *.corp.example {k2}",
        f"@cert-authority,@revoked both.example {k1}",
        f"@revoked @cert-authority both2.example {k1}",
        "@revoked",
        f"@unknown marker.example {k1}",
        "garbage",
        "justahost.example",
        "host.trunc ssh-ed25519",
        "host.trunc2 ssh-ed25519 # comment",
        "host.bad ssh-ed25519 !!!notbase64",
        f"host.mismatch {rsa_blob_as_ed25519}",
        "host.unknowntype ssh-foo AAAAB3NzaC1yc2EAAAADAQABAAAAgQ==",
        "rsa1.example 1024 35 1234567890",
        f"|1|bogus|hash {k1}",
        f"|2|c2FsdA==|aGFzaA== {k1}",
        f",leading-comma.example {k1}",
        f"trailing-comma.example, {k2}",
        f"!* {k1}",
        f"neg.example,!neg.example {k1}",
        f"*.sub.example,!*.bad.sub.example,x.bad.sub.example {k3}",
        f"q?.example {k2}",
        f"only-star-star.*.example {k3}",
    ]


QUERIES = [
    "web1.example.com", "web2.example.com", "example.com", "sub.web1.example.com",
    "10.0.0.1", "10.0.0.10", "10.0.0.", "10.0.1.5", "10.0.1.6", "10.0.2.7", "10.0.2.8",
    "db.internal", "cache.internal", "internal", "[10.0.0.1]:2222", "[10.0.0.1]:22",
    "[10.0.3.4]:2222", "[10.0.3.4]:2200", "10.0.3.4", "[x.example.org]:2200", "x.example.org",
    "example.net", "sample.net", "mixed.case.com", "axxbyc.test", "abyc.test", "abc.test",
    "indented.example", "tabbed.example", "crlf.example", "spaced.example", "revoked.example",
    "host.corp.example", "corp.example", "both.example", "both2.example", "marker.example",
    "justahost.example", "host.trunc", "host.trunc2", "host.bad", "host.mismatch",
    "host.unknowntype", "rsa1.example", "leading-comma.example", "trailing-comma.example", "",
    "neg.example", "a.sub.example", "a.bad.sub.example", "x.bad.sub.example", "qq.example",
    "q.example", "only-star-star.a.example", "unknown.example",
]  # fmt: skip


def _ssh_keygen_lines(known_hosts: Path, name: str) -> set[int]:
    """The line numbers OpenSSH finds for ``name`` (-l parses each key, as ssh does)."""
    result = subprocess.run(
        ["ssh-keygen", "-l", "-F", name, "-f", str(known_hosts)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return {int(n) for n in re.findall(r"^# Host .* found: line (\d+)", result.stdout, re.M)}


def _our_lines(known_hosts: Path, name: str) -> set[int]:
    found = KnownHostsFile.parse(known_hosts.read_bytes().decode("latin-1")).lookup(name)
    return {e.line for e in found.known + found.revoked + found.authorities}


@needs_ssh_keygen
def test_the_same_lines_as_ssh_keygen_find(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("\n".join(_table(keys)) + "\n")
    disagreements = {}
    for name in QUERIES:
        theirs, ours = _ssh_keygen_lines(known_hosts, name), _our_lines(known_hosts, name)
        if theirs != ours:
            disagreements[name] = (theirs, ours)
    assert disagreements == {}
    # The table does exercise each kind of match.
    assert _our_lines(known_hosts, "10.0.1.6") == {4}
    assert _our_lines(known_hosts, "10.0.1.5") == set()
    assert _our_lines(known_hosts, "[10.0.3.4]:2222") == {8}


@needs_ssh_keygen
def test_hashed_entries_as_ssh_keygen_hashes_and_finds_them(
    keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    k1, k2 = _public(keys["k1"]), _public(keys["k2"])
    lines = [line for line in _table(keys) if not _invalid(line)]
    lines += [f"web2.example.com,10.0.9.9,[web2.example.com]:2222 {k1}", f"Upper.Example {k2}"]
    known_hosts.write_text("\n".join(lines) + "\n")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(known_hosts)], check=True,
                   capture_output=True)  # fmt: skip
    hashed = known_hosts.read_text()
    assert "|1|" in hashed and "web2.example.com" not in hashed
    # A corrupt hashed line (salt of the wrong size) is ignored by both.
    known_hosts.write_text(hashed + f"|1|c2FsdA==|aGFzaA== {k1}\n")
    queries = QUERIES + ["10.0.9.9", "[web2.example.com]:2222", "upper.example"]
    disagreements = {}
    for name in queries:
        theirs, ours = _ssh_keygen_lines(known_hosts, name), _our_lines(known_hosts, name)
        if theirs != ours:
            disagreements[name] = (theirs, ours)
    assert disagreements == {}
    assert _our_lines(known_hosts, "[web2.example.com]:2222")
    assert _our_lines(known_hosts, "Web1.Example.COM") == _our_lines(
        known_hosts, "web1.example.com"
    )


def _invalid(line: str) -> bool:
    """Lines ssh-keygen -H refuses to rewrite a file with (it keeps only valid files)."""
    parsed = KnownHostsFile.parse(line + "\n")
    stripped = line.strip()
    return (
        not stripped.startswith("#")
        and stripped != ""
        and (not parsed.entries or not parsed.entries[0].valid)
    )


def test_patterns_as_match_c() -> None:
    assert match_pattern_list("a.example.com", "*.example.com") == 1
    assert match_pattern_list("example.com", "*.example.com") == 0
    assert match_pattern_list("10.0.0.5", "10.0.0.?") == 1
    assert match_pattern_list("10.0.0.50", "10.0.0.?") == 0
    assert match_pattern_list("b", "a,b,c") == 1
    assert match_pattern_list("bad.x", "*.x,!bad.x") == -1
    assert match_pattern_list("bad.x", "!bad.x,*.x") == -1  # a negation wins in any position
    assert match_pattern_list("good.x", "!bad.x") == 0  # a negation alone covers nothing
    assert match_pattern_list("A.X", "a.*") == 1
    assert match_pattern_list("a.x", "A.*") == 1
    assert match_pattern_list("[h]:2222", "[h]:*") == 1
    assert match_pattern_list("a.b", "a?b") == 1  # "." is a plain character
    assert match_pattern_list("h", "h," + "x" * 1100) == 0  # an over-long pattern: no match
    assert match_pattern_list("axb", "a.b") == 0 and match_pattern_list("[h]:22", "[h]:2") == 0


@settings(max_examples=300, deadline=None)
@given(st.text("ab.*?[]()\\|+^$", max_size=6), st.text("ab.*?[]()\\|+^$", max_size=6))
def test_a_pattern_without_wildcards_is_the_name_itself(name: str, pattern: str) -> None:
    """Most known_hosts names are a host's own: compared as they are, not compiled (that cost
    more than the rest of a lookup); with wildcards, ``*`` and ``?`` as match.c reads them."""
    misses = _compiled.cache_info().misses
    expected = re.fullmatch(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
        name,
        re.DOTALL,
    )
    assert match_pattern(name, pattern) == (expected is not None)
    if "*" not in pattern and "?" not in pattern:
        assert match_pattern(name, pattern) == (name == pattern)
        assert _compiled.cache_info().misses == misses


def test_hashed_names_and_ports(keys: dict[str, paramiko.PKey]) -> None:
    key = keys["k1"]
    text = f"{hash_name('web.example')} {_public(key)}\n{hash_name('[web.example]:2222')} {_public(key)}\n"
    parsed = KnownHostsFile.parse(text)
    assert [e.line for e in parsed.lookup("web.example").known] == [1]
    assert [e.line for e in parsed.lookup(host_name("WEB.example", 2222)).known] == [2]
    assert parsed.lookup("[web.example]:22").known == ()
    assert host_name("Web.Example", 22) == "web.example"


# ---------------------------------------------------------------------------------------------
# What a presented key is worth


def _verdict(text: str, name: str, key: paramiko.PKey) -> Verdict:
    return KnownHostsFile.parse(text).lookup(name).verdict(key)


def test_verdicts(keys: dict[str, paramiko.PKey]) -> None:
    k1, k2, k3 = keys["k1"], keys["k2"], keys["k3"]
    text = "\n".join([
        f"*.example.com,!bad.example.com {_public(k1)}",
        f"web.example.com {_public(k3)}",
        f"@revoked *.example.com {_public(k2)}",
        f"@cert-authority *.corp {_public(k2)}",
        f"@cert-authority mixed.corp {_public(k2)}",
        f"mixed.corp {_public(k1)}",
        f"stale.example.com {_public(k2)}",
    ])  # fmt: skip
    assert _verdict(text, "a.example.com", k1) is Verdict.KNOWN  # by a wildcard line
    assert _verdict(text, "a.example.com", k3) is Verdict.CHANGED  # the wildcard says k1
    assert _verdict(text, "web.example.com", k3) is Verdict.KNOWN  # either line's key
    assert _verdict(text, "web.example.com", k1) is Verdict.KNOWN
    assert _verdict(text, "bad.example.com", k3) is Verdict.NEW  # negated: no line covers it
    assert _verdict(text, "a.example.com", k2) is Verdict.REVOKED
    assert _verdict(text, "stale.example.com", k2) is Verdict.REVOKED  # revoked beats accepted
    assert _verdict(text, "host.corp", k1) is Verdict.CERTIFICATES_ONLY
    assert _verdict(text, "host.corp", k2) is Verdict.CERTIFICATES_ONLY  # a CA key as a host key
    assert _verdict(text, "mixed.corp", k1) is Verdict.KNOWN  # plain lines decide
    assert _verdict(text, "mixed.corp", k3) is Verdict.CHANGED
    assert _verdict(text, "example.org", k1) is Verdict.NEW


def test_key_types_are_asked_for_as_recorded(keys: dict[str, paramiko.PKey]) -> None:
    text = f"rsa.example {_public(keys['k3'])}\necdsa.example {_public(keys['k4'])}\n"
    parsed = KnownHostsFile.parse(text)
    rsa_off = parsed.lookup("rsa.example").disabled_algorithms()
    assert "rsa-sha2-512" not in rsa_off and {"ssh-ed25519", "ecdsa-sha2-nistp256"} <= set(rsa_off)
    assert "ecdsa-sha2-nistp256" not in parsed.lookup("ecdsa.example").disabled_algorithms()
    assert parsed.lookup("new.example").disabled_algorithms() == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=" \t#@|!*?,[]:.1abc=/+\r", max_size=40), max_size=8),
       st.text(alphabet="abc.1[]:*", max_size=12))  # fmt: skip
def test_any_file_is_read_without_error(lines: list[str], name: str) -> None:
    key_line = "a ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJhZ/y3zFGdikMR1hkcckMzXvJy15oOhZNRzBkeuTGUj"
    parsed = KnownHostsFile.parse("\n".join([*lines, key_line, *lines]))
    parsed.lookup(name).verdict(paramiko.ECDSAKey.generate())


# ---------------------------------------------------------------------------------------------
# The per-process cache, appending, and the files it creates


def test_a_new_key_is_appended_and_found_again(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("# mine\n" + OTHER)  # no final newline
    key = paramiko.RSAKey.generate(1024)
    cache = _KnownHostsCache()
    assert cache.lookup(known_hosts, "10.0.0.1").known == ()
    cache.record(known_hosts, "[10.0.0.1]:2222", key)
    lines = known_hosts.read_text().splitlines()
    assert lines[:2] == ["# mine", OTHER]
    assert lines[2] == f"[10.0.0.1]:2222 ssh-rsa {key.get_base64()}"
    assert cache.lookup(known_hosts, "[10.0.0.1]:2222").verdict(key) is Verdict.KNOWN
    assert [e.line for e in cache.lookup(known_hosts, "[10.0.0.1]:2222").known] == [3]
    fresh = _KnownHostsCache()
    assert fresh.lookup(known_hosts, "[10.0.0.1]:2222").verdict(key) is Verdict.KNOWN
    assert [e.key_type for e in fresh.lookup(known_hosts, "10.0.0.9").known] == ["ssh-ed25519"]


def test_a_file_changed_by_someone_else_is_read_again(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    cache = _KnownHostsCache()
    assert cache.lookup(known_hosts, "10.0.0.9").known == ()
    known_hosts.write_text(OTHER + "\n")
    assert [e.key_type for e in cache.lookup(known_hosts, "10.0.0.9").known] == ["ssh-ed25519"]


def test_new_directories_are_0700_and_a_new_file_0600(tmp_path: Path) -> None:
    known_hosts = tmp_path / "home" / ".ssh" / "known_hosts"
    _KnownHostsCache().record(known_hosts, "h", paramiko.ECDSAKey.generate())
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
    assert stat.S_IMODE(known_hosts.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(known_hosts.stat().st_mode) == 0o600


def test_existing_directory_and_file_keep_their_modes(tmp_path: Path) -> None:
    directory = tmp_path / "ssh"
    directory.mkdir()
    directory.chmod(0o755)
    known_hosts = directory / "known_hosts"
    known_hosts.write_text("")
    known_hosts.chmod(0o644)
    _KnownHostsCache().record(known_hosts, "h", paramiko.ECDSAKey.generate())
    assert stat.S_IMODE(directory.stat().st_mode) == 0o755
    assert stat.S_IMODE(known_hosts.stat().st_mode) == 0o644


# ---------------------------------------------------------------------------------------------
# The policy paramiko consults


def _policy(known_hosts: Path, trust_new: bool = True) -> tuple[_KnownHostsPolicy, list[str]]:
    announced: list[str] = []
    policy = _KnownHostsPolicy(
        known_hosts, "web.example.com", trust_new, lambda host, key: announced.append(host)
    )
    return policy, announced


def test_policy_trusts_only_hosts_no_line_covers(
    keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"*.example.com,!new.example.com {_public(keys['k1'])}\n")
    policy, announced = _policy(known_hosts)
    client = paramiko.SSHClient()
    policy.missing_host_key(client, "web.example.com", keys["k1"])  # known by the wildcard
    with pytest.raises(HostKeyRefused, match="host key changed .*line 1.*correct line 1"):
        policy.missing_host_key(client, "web.example.com", keys["k2"])
    policy.missing_host_key(client, "new.example.com", keys["k2"])  # negated: new, recorded
    policy.missing_host_key(client, "new.example.com", keys["k2"])  # and known from now on
    assert announced == ["new.example.com"]
    assert known_hosts.read_text().splitlines()[1] == f"new.example.com {_public(keys['k2'])}"
    with pytest.raises(HostKeyRefused, match="host key changed .*ssh-keygen -R new.example.com"):
        policy.missing_host_key(client, "new.example.com", keys["k1"])


def test_policy_refuses_revoked_and_certificate_only_hosts(
    keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(
        f"web.example.com {_public(keys['k1'])}\n@revoked * {_public(keys['k1'])}\n"
        f"@cert-authority *.corp {_public(keys['k2'])}\n"
    )
    policy, announced = _policy(known_hosts)
    client = paramiko.SSHClient()
    with pytest.raises(HostKeyRefused, match=r"host key ssh-ed25519 SHA256:\S+ is revoked"):
        policy.missing_host_key(client, "web.example.com", keys["k1"])
    with pytest.raises(HostKeyRefused, match="is revoked"):
        policy.missing_host_key(client, "new.example.com", keys["k1"])  # even if new
    with pytest.raises(HostKeyRefused, match="certificate authority .* cannot check host cert"):
        policy.missing_host_key(client, "db.corp", keys["k3"])
    assert announced == [] and len(known_hosts.read_text().splitlines()) == 3


def test_policy_without_trust_refuses_new_hosts(
    keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    policy, _ = _policy(tmp_path / "known_hosts", trust_new=False)
    with pytest.raises(HostKeyRefused, match="unknown host key and new hosts are not trusted"):
        policy.missing_host_key(paramiko.SSHClient(), "web.example.com", keys["k1"])
    assert not (tmp_path / "known_hosts").exists()


# ---------------------------------------------------------------------------------------------
# Connections to a paramiko server on loopback (host key check, then refused authentication)


class _RefuseEveryone(paramiko.ServerInterface):
    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return paramiko.AUTH_FAILED


@pytest.fixture
def sshd(keys: dict[str, paramiko.PKey]) -> Iterator[int]:
    """A server with an ECDSA and an RSA host key (k4, k3) that lets nobody in."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    transports: list[paramiko.Transport] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transports.append(transport)
            transport.add_server_key(keys["k4"])
            transport.add_server_key(keys["k3"])
            try:
                transport.start_server(server=_RefuseEveryone())
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    threading.Thread(target=serve, daemon=True).start()
    yield int(listener.getsockname()[1])
    listener.close()
    for transport in transports:
        transport.close()


def _connect(port: int, known_hosts: Path, **kwargs: object) -> str:
    settings = SshSettings(user="deploy", port=port, keys_only=True, config=False)
    client_key = paramiko.RSAKey.generate(1024)
    text = io.StringIO()
    client_key.write_private_key(text)
    connection = SshConnection(
        "127.0.0.1", settings, known_hosts=known_hosts, timeout=5,
        key_data=(text.getvalue(),), **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    with pytest.raises(SshError) as exc:
        connection.connect()
    return str(exc.value)


ACCEPTED = "127.0.0.1: authentication failed as user deploy"  # the host key check passed


def test_connect_accepts_a_key_recorded_by_a_pattern_line(
    sshd: int, keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    # Only the RSA key is recorded: the connection asks for it though paramiko prefers ECDSA.
    known_hosts.write_text(f"[127.0.0.?]:*,!127.0.0.2 {_public(keys['k3'])}\n")
    assert _connect(sshd, known_hosts).startswith(ACCEPTED)
    assert len(known_hosts.read_text().splitlines()) == 1


def test_connect_accepts_a_hashed_entry(
    sshd: int, keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"{hash_name(f'[127.0.0.1]:{sshd}')} {_public(keys['k4'])}\n")
    assert _connect(sshd, known_hosts).startswith(ACCEPTED)


def test_connect_refuses_a_changed_key_matched_by_a_wildcard(
    sshd: int, keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.*]:* {_public(keys['k5'])}\n")  # ECDSA, not the host's
    message = _connect(sshd, known_hosts)
    assert message.startswith("127.0.0.1: host key changed (not the one recorded in")
    assert "correct line 1 of" in message  # a pattern line: not `ssh-keygen -R`
    assert known_hosts.read_text().count("\n") == 1  # nothing recorded


def test_connect_refuses_a_revoked_key(
    sshd: int, keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(
        f"[127.0.0.1]:{sshd} {_public(keys['k4'])}\n@revoked * {_public(keys['k4'])}\n"
    )
    message = _connect(sshd, known_hosts)
    assert message.startswith("127.0.0.1: host key ecdsa-sha2-nistp256 SHA256:")
    assert "is revoked (@revoked at line 2 of" in message


def test_connect_refuses_a_host_with_only_a_certificate_authority(
    sshd: int, keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"@cert-authority [127.0.0.1]:* {_public(keys['k1'])}\n")
    message = _connect(sshd, known_hosts)
    assert "trusts only a certificate authority for this host" in message
    assert "backstaff cannot check host certificates" in message


def test_connect_trusts_a_new_host_once_and_records_it(
    sshd: int, keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "new" / "known_hosts"
    announced: list[tuple[str, str]] = []
    on_new_key = lambda host, key: announced.append((host, key))  # noqa: E731
    assert _connect(sshd, known_hosts, on_new_key=on_new_key).startswith(ACCEPTED)
    assert _connect(sshd, known_hosts, on_new_key=on_new_key).startswith(ACCEPTED)
    assert len(announced) == 1 and announced[0][0] == f"[127.0.0.1]:{sshd}"
    assert known_hosts.read_text().startswith(f"[127.0.0.1]:{sshd} ")


def test_connect_refuses_a_host_offering_none_of_the_recorded_types(
    sshd: int, keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{sshd} {_public(keys['k1'])}\n")  # ed25519 only
    message = _connect(sshd, known_hosts)
    assert message.startswith("127.0.0.1: host key changed")


def test_connect_reports_an_unreadable_file(sshd: int, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.mkdir()  # a directory where the file should be
    assert _connect(sshd, known_hosts).startswith(f"127.0.0.1: cannot read {known_hosts}")
