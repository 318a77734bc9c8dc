"""The JSON Schema files of docs/schemas/ (plan, refresh recording, apply events), for tests
to validate every JSON output against."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from tests.conftest import ROOT

SCHEMAS = ROOT / "docs" / "schemas"


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(name: str, data: Any) -> list[str]:
    """Every way ``data`` breaks the schema, as ``path: message`` ([] when valid)."""
    found = validator(name).iter_errors(data)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]
