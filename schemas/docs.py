"""``backstaff docs [SECTION]``: the schemas themselves, printed as a commented reference."""

from __future__ import annotations

from backstaff.schemas import (
    accessories,
    aliases,
    boot,
    builder,
    env,
    logging,
    proxy,
    registry,
    root,
    servers,
    ssh,
)
from backstaff.schemas.validator import Rule

SECTIONS: dict[str, tuple[str, Rule]] = {
    "configuration": ("", root.RULE),
    "accessory": ("accessories/<name>", accessories.ACCESSORY),
    "alias": ("aliases", aliases.RULE),
    "boot": ("boot", boot.RULE),
    "builder": ("builder", builder.RULE),
    "env": ("env", env.STRUCTURED),
    "logging": ("logging", logging.RULE),
    "proxy": ("proxy", proxy.RULE),
    "registry": ("registry", registry.RULE),
    "role": ("servers/<role>", servers.ROLE),
    "servers": ("servers", servers.RULE),
    "ssh": ("ssh", ssh.SSH),
    "sshkit": ("sshkit", ssh.SSHKIT),
}

_TYPE_NAMES = {
    "text": "string", "strict_text": "string", "int": "integer", "flag": "boolean",
    "array": "array", "hash": "hash",
}  # fmt: skip


def section_names() -> list[str]:
    return list(SECTIONS)


def render_section(name: str) -> str | None:
    """The section's keys with type and meaning; None for an unknown section."""
    if name not in SECTIONS:
        return None
    path, rule = SECTIONS[name]
    lines = [f"# {name}" + (f" ({path})" if path else " (config/deploy.yml)")]
    doc = rule.get("meta", {}).get("doc")
    if doc:
        lines.append(f"# {doc}")
    lines.append("")
    lines += _render_fields(rule, 0)
    return "\n".join(lines) + "\n"


def _type_name(rule: Rule) -> str:
    types = rule.get("type", "text")
    names = [types] if isinstance(types, str) else types
    text = " or ".join(_TYPE_NAMES.get(t, t) for t in names)
    item = rule.get("schema")
    if rule.get("type") == "array" and isinstance(item, dict) and "type" in item:
        text += f" of {_type_name(item)}s"
    return text


def _render_fields(rule: Rule, depth: int) -> list[str]:
    fields = rule.get("schema") if rule.get("type") == "hash" else None
    if not isinstance(fields, dict):
        return [f"{'  ' * depth}<{_type_name(rule)}>  # {rule.get('meta', {}).get('doc', '')}"]
    lines = []
    for key, field_rule in fields.items():
        doc = field_rule.get("meta", {}).get("doc", "")
        lines.append(
            f"{'  ' * depth}{key}: <{_type_name(field_rule)}>" + (f"  # {doc}" if doc else "")
        )
        if field_rule.get("type") == "hash" and isinstance(field_rule.get("schema"), dict):
            lines += _render_fields(field_rule, depth + 1)
    return lines
