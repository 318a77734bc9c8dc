"""``kamal secrets fetch|extract`` as Kamal 2.11 runs them (``lib/kamal/cli/secrets.rb``), for
``backstaff secrets …`` and for ``$(kamal secrets …)`` in ``.kamal/secrets``.

In a secrets file Kamal never runs a ``kamal`` program for these: a ``$(…)`` whose text (its
``$VAR``s expanded) starts with ``kamal secrets`` is split into words as Ruby's ``shellsplit``
does and run in-process with ``--inline`` (``Kamal::Secrets::Dotenv::InlineCommandSubstitution``);
``fetch --inline`` returns the JSON shell-escaped, so that ``$SECRETS`` expanded into the next
``extract`` command splits back into one word. ``run_inline`` does the same: no ``kamal`` is
needed, and one on PATH changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from backstaff.executors.secret_adapters import lookup
from backstaff.executors.secret_adapters.vendor import AdapterError, Vendor
from backstaff.executors.secret_adapters.words import blank, dump_json, shellescape, shellsplit

#: Kamal's test for a command it runs inline (Ruby's ``\s`` is ASCII whitespace)
INLINE = re.compile(r"\A[ \t\r\n\f\v]*kamal[ \t\r\n\f\v]*secrets[ \t\r\n\f\v]+")
NO_ACCOUNT = "No value provided for required options '--account'"

# Thor's options of ``kamal secrets fetch`` (value-taking), ``--inline``, and Kamal's global
# options (accepted, as Thor accepts them, and without effect here).
_VALUE_OPTIONS = {"--adapter": "adapter", "-a": "adapter", "--account": "account", "--from": "from"}
_GLOBAL_VALUE = {"--version", "--roles", "-r", "--hosts", "-h", "--config-file", "-c",
                 "--destination", "-d", "--primary", "-p"}  # fmt: skip
_GLOBAL_FLAGS = {"--verbose", "-v", "--quiet", "-q", "--skip-hooks", "-H", "--no-verbose",
                 "--no-quiet", "--no-skip-hooks"}  # fmt: skip


def fetch_text(
    adapter: str,
    secrets: list[str],
    *,
    account: str | None,
    from_: str | None,
    inline: bool,
    vendor: Vendor,
) -> str | None:
    """What ``kamal secrets fetch`` gives: ``JSON.dump`` of the values, shell-escaped when
    ``inline``; None when the adapter needs ``--account`` and has none (Kamal then prints
    ``NO_ACCOUNT`` and stops, exit 0)."""
    found = lookup(adapter, vendor)
    if found.requires_account and blank(account):
        return None
    text = dump_json(found.fetch(secrets, account, from_))
    return shellescape(text) if inline else text


def extract_value(name: str, secrets: str) -> str:
    """``kamal secrets extract NAME SECRETS``: the key ``NAME``, else the first key ending in
    ``/NAME``; an error if neither is there (or its value is null)."""
    try:
        parsed = json.loads(secrets)
    except json.JSONDecodeError as exc:
        raise AdapterError(f"SECRETS is not the JSON `secrets fetch` prints: {exc.msg}") from None
    if not isinstance(parsed, dict):
        raise AdapterError("SECRETS is not the JSON object `secrets fetch` prints")
    value = parsed.get(name)
    if value is None or value is False:
        value = next((v for k, v in parsed.items() if k.endswith(f"/{name}")), None)
    if value is None:
        raise AdapterError(f"Could not find secret {name}")
    return value if isinstance(value, str) else dump_json(value)


@dataclass
class _Parsed:
    """A ``kamal secrets`` command line as Thor reads it."""

    command: str
    options: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    inline: bool = False


def _parse(words: list[str]) -> _Parsed:
    """Thor's reading of ``secrets SUBCOMMAND …``: options anywhere, ``--opt=value``,
    ``--opt value``, ``-a value``, ``--`` ends options; ``--account``/``--from`` with no value
    are their own names, as Thor makes them."""
    if len(words) < 2 or words[0] != "secrets":
        raise AdapterError("expected `kamal secrets fetch|extract …`")
    parsed, rest, index = _Parsed(words[1]), words[2:], 0
    while index < len(rest):
        word = rest[index]
        index += 1
        if word == "--":
            parsed.args += rest[index:]
            break
        name, eq, value = word.partition("=")
        if not word.startswith("-") or word == "-":
            parsed.args.append(word)
        elif name in ("--inline", "--no-inline") and not eq:
            parsed.inline = name == "--inline"
        elif name in _GLOBAL_FLAGS and not eq:
            pass
        elif name in _VALUE_OPTIONS or name in _GLOBAL_VALUE:
            if not eq and (index >= len(rest) or rest[index].startswith("-")):
                # Thor gives an optional text option without a value its own name (a real
                # `--account $UNSET_VARIABLE` is `--account account`); only the required
                # --adapter is an error
                if _VALUE_OPTIONS.get(name) == "adapter":
                    raise AdapterError(f"No value provided for option '{name}'")
                value = name.lstrip("-")
            elif not eq:
                value, index = rest[index], index + 1
            if name in _VALUE_OPTIONS:
                parsed.options[_VALUE_OPTIONS[name]] = value
        elif word.startswith("-a") and not word.startswith("--"):
            parsed.options["adapter"] = word[2:]
        else:
            raise AdapterError(f"Unknown option {name} for `kamal secrets {parsed.command}`")
    return parsed


def run_inline(command: str, env: Mapping[str, str]) -> str:
    """``$(kamal secrets …)`` in a secrets file, ``command`` with its ``$VAR``s expanded:
    what Kamal's inline substitution gives (Secrets chomps it). AdapterError when it fails."""
    try:
        words = shellsplit(command)[1:] + ["--inline"]
    except ValueError:
        raise AdapterError("unmatched quote in the command") from None
    parsed = _parse(words)
    vendor = Vendor(dict(env))
    if parsed.command == "fetch":
        if "adapter" not in parsed.options:
            raise AdapterError("No value provided for required options '--adapter'")
        text = fetch_text(
            parsed.options["adapter"], parsed.args,
            account=parsed.options.get("account"), from_=parsed.options.get("from"),
            inline=True, vendor=vendor,
        )  # fmt: skip
        if text is None:
            raise AdapterError(NO_ACCOUNT)
        return text
    if parsed.command == "extract":
        if len(parsed.args) != 2 or parsed.options:
            raise AdapterError("usage: kamal secrets extract NAME SECRETS")
        return extract_value(parsed.args[0], parsed.args[1])
    raise AdapterError(f"`kamal secrets {parsed.command}` cannot run inside a secrets file")
