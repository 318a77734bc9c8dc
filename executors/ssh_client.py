"""paramiko's SSHClient as backstaff connects with it: each key file read once a process.

paramiko reads the key files it is given (and, when it looks for keys, ``~/.ssh/id_*``) on every
connection, and as it does not know a file's key type it tries each in turn, RSA, ECDSA, then
Ed25519, reading and parsing the file each time: an Ed25519 key, the usual one, is read three
times a host, about 0.35 ms of the client's CPU a connection on this project's machine; a read
of 200 hosts did it 600 times for one file. Here each attempt (a file and a key type) is done
once and its outcome, the key or the error, kept for as long as the file and its certificate
are unchanged. paramiko's order of attempts, its certificates and its errors are as they were.
A key with a passphrase is not kept: it is read as paramiko reads it.
"""

from __future__ import annotations

import os
import threading
from binascii import hexlify
from logging import DEBUG
from typing import Any

import paramiko

# (key file, key type) -> the file's and its certificate's (mtime, size), and the outcome
_Signature = tuple[tuple[int, int] | None, ...]
_loaded: dict[tuple[str, type], tuple[_Signature, paramiko.PKey | paramiko.SSHException]] = {}
_lock = threading.Lock()


class SSHClient(paramiko.SSHClient):
    """paramiko's client, reading each key file once a process."""

    def _key_from_filepath(self, filename: str, klass: type, password: Any) -> paramiko.PKey:
        if password is not None:
            return super()._key_from_filepath(filename, klass, password)  # type: ignore[misc]
        signature = _signature(filename)
        with _lock:
            kept = _loaded.get((filename, klass))
        if kept is not None and kept[0] == signature:
            outcome = kept[1]
            if isinstance(outcome, paramiko.PKey):
                self._log_reused(outcome, filename)
        else:
            outcome = self._read(filename, klass)
            with _lock:
                _loaded[(filename, klass)] = (signature, outcome)
        if isinstance(outcome, paramiko.SSHException):
            raise type(outcome)(*outcome.args)  # a new error each time, as paramiko's
        return outcome

    def _read(self, filename: str, klass: type) -> paramiko.PKey | paramiko.SSHException:
        read = super()._key_from_filepath  # type: ignore[misc]
        try:
            key: paramiko.PKey = read(filename, klass, None)
        except paramiko.SSHException as exc:
            return exc
        return key

    def _log_reused(self, key: paramiko.PKey, filename: str) -> None:
        """paramiko's debug line for a key it read (``ssh.log_level: debug``)."""
        transport = self.get_transport()
        if transport is not None and transport.logger.isEnabledFor(DEBUG):
            fingerprint = hexlify(key.get_fingerprint())
            transport.logger.log(DEBUG, f"Trying discovered key {fingerprint!r} in {filename}")


def _signature(filename: str) -> _Signature:
    """What tells that a key file or its certificate changed: each one's (mtime, size), None
    for one missing (paramiko loads ``<key>-cert.pub`` when it is there)."""
    suffix = "-cert.pub"
    paths = (filename.removesuffix(suffix), filename.removesuffix(suffix) + suffix)
    return tuple(_stat(path) for path in paths)


def _stat(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
