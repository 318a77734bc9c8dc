"""The one error type config loading raises: a list of Kamal-style ``path: message`` lines."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class ConfigError:
    """One problem in the config, addressed like Kamal does (``accessories/db/port``)."""

    path: str
    message: str
    # A check Kamal does not make (docs/kamal-differences.md, "Deliberately stricter"): listed
    # after Kamal's own errors, so that the first error is the one Kamal gives.
    stricter: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigErrors(Exception):
    """Raised with every problem found; ``str()`` gives one line per problem. ``notes``: what
    the config's text was read as that may explain them (shown as warnings first)."""

    def __init__(self, errors: list[ConfigError], notes: tuple[str, ...] = ()) -> None:
        self.errors = list(errors)
        self.notes = notes
        super().__init__("\n".join(str(e) for e in self.errors))

    @classmethod
    def one(cls, message: str, path: str = "") -> ConfigErrors:
        return cls([ConfigError(path, message)])


def join(*parts: object) -> str:
    """Join path parts with ``/``, skipping empty ones (the root has no prefix)."""
    return "/".join(str(p) for p in parts if p != "" and p is not None)


def stricter(path: str, message: str) -> ConfigError:
    return ConfigError(path, message, stricter=True)


def kamal_first(errors: list[ConfigError]) -> list[ConfigError]:
    """Kamal's errors in their order, then backstaff's stricter ones in theirs."""
    return sorted(errors, key=lambda error: error.stricter)
