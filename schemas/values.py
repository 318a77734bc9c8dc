"""What Docker cannot take, refused at validation with the config path (values are data: any
other text reaches the container exactly, however much shell syntax it holds).

- a NUL byte, anywhere: no argument or file of a command can hold one;
- a line break in a label (docker labels are single lines) or in any key (env names, label
  names, option names: each becomes part of one ``KEY=value`` or ``--key`` argument);
- a ``cmd`` whose quotes do not close: it is split into words as a shell would split it.
"""

from __future__ import annotations

from typing import Any

from backstaff.schemas.errors import ConfigError, join
from backstaff.schemas.shell_words import shell_words

LABELS = "labels"


def value_errors(config: Any, path: str = "") -> list[ConfigError]:
    errors: list[ConfigError] = []
    _walk(config, path, errors, in_labels=False)
    return errors


def _walk(value: Any, path: str, errors: list[ConfigError], in_labels: bool) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            where = join(path, key_text)
            if "\0" in key_text or "\n" in key_text or "\r" in key_text:
                errors.append(ConfigError(where, "a key cannot hold a NUL byte or a line break"))
            # the values of a labels hash are label values
            _walk(item, where, errors, in_labels=key_text == LABELS or in_labels)
            if key_text == "cmd" and isinstance(item, str) and "\0" not in item:
                try:
                    shell_words(item)
                except ValueError as exc:
                    errors.append(ConfigError(where, f"cannot be split into words: {exc}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, join(path, str(index)), errors, in_labels)
    elif isinstance(value, str):
        if "\0" in value:
            errors.append(ConfigError(path, "cannot hold a NUL byte (no command can pass one)"))
        elif in_labels and ("\n" in value or "\r" in value):
            errors.append(ConfigError(path, "a label value cannot hold a line break"))
