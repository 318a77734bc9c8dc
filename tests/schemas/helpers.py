"""A minimal valid config, a helper returning the error lines for a variation of it, and YAML
text that Kamal (Psych) and backstaff read back as the data it was made from."""

from __future__ import annotations

from typing import Any

import yaml

from backstaff.schemas import ConfigErrors, ConfigSources, load_config
from backstaff.schemas.merge import deep_merge
from backstaff.schemas.psych_yaml import PsychLoader, PsychValueError, RubySymbol, tokenize

BASE: dict[str, Any] = {
    "service": "app",
    "image": "acme/app",
    "registry": {"username": "u", "password": ["KAMAL_REGISTRY_PASSWORD"]},
    "builder": {"arch": "amd64"},
    "servers": ["1.1.1.1"],
}


class _KamalDumper(yaml.SafeDumper):
    """PyYAML's dumper, quoting every string Psych would read as something else: PyYAML leaves
    ``05:30``, ``80,443``, ``::1`` or ``yEs`` plain, which Psych reads as 19800, 80443, the
    Symbol ``:":1"`` and true."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    try:
        value = tokenize(text)
    except PsychValueError:
        value = None
    same = type(value) is str and value == text
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=None if same else "'")


def _represent_symbol(dumper: yaml.SafeDumper, symbol: RubySymbol) -> yaml.ScalarNode:
    assert tokenize(f":{symbol}") == symbol, f"no plain YAML for the Symbol {symbol!r}"
    return dumper.represent_scalar("tag:yaml.org,2002:str", f":{symbol}")


_KamalDumper.add_representer(str, _represent_str)
_KamalDumper.add_representer(RubySymbol, _represent_symbol)


def kamal_yaml(data: Any, **options: Any) -> str:
    """``yaml.safe_dump`` for a deploy.yml: text Psych reads back as ``data``."""
    return yaml.dump(data, Dumper=_KamalDumper, **options)


def errors_for(extra: dict[str, Any] | str, *, base: dict[str, Any] | None = None) -> list[str]:
    """Error lines for ``base`` merged with ``extra`` (a dict, or YAML text read as Kamal reads
    it)."""
    overlay = yaml.load(extra, Loader=PsychLoader) if isinstance(extra, str) else extra
    document = deep_merge(BASE if base is None else base, overlay or {})
    try:
        load_config(ConfigSources("config/deploy.yml", kamal_yaml(document, sort_keys=False)))
    except ConfigErrors as exc:
        return [str(e) for e in exc.errors]
    return []
