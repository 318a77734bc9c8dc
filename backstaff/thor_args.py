"""Kamal's command lines as Thor reads them, for click.

Thor (Kamal's CLI library) takes forms click reads differently or refuses: ``-d=staging``
(click would read the value ``=staging``), a flag given ``=true`` or ``=false`` (``-q=false``,
``--verbose=false``), ``--config_file`` for ``--config-file``, ``app stale-containers`` for
``stale_containers``, and a command by any prefix that names one command only (``kamal dep``
deploys; ``kamal de`` is ambiguous: deploy or details). A prefix is a command before it is an
alias, as in Thor.
"""

from __future__ import annotations

from collections.abc import Iterable

import click


def option_name(token: str) -> str:
    """Thor's spelling of a long option: ``--config_file`` is ``--config-file``."""
    return token.replace("_", "-")


def thor_command(names: Iterable[str], word: str, kamal_names: Iterable[str] = ()) -> str | None:
    """The command ``word`` names among a group's ``names`` (and Thor's ``help``, which every
    group has) as Thor dispatches it: itself, the one name it is a prefix of, else with dashes
    read as underscores; None when none. Raises ``click.ClickException`` (exit status 1) when
    it is the prefix of several, with Thor's message. A prefix is read among ``kamal_names``
    (the group's commands Kamal has) first, as Kamal reads it: ``ap`` is ``app`` although
    backstaff also has ``apply``; backstaff's own commands come in when no Kamal one matches."""
    names = sorted({*names, "help"})
    if word in names:
        return word
    kamal = sorted({*kamal_names, "help"} & set(names)) if kamal_names else names
    for pool in (kamal, names):
        matches = [name for name in pool if name.startswith(word)]
        if len(matches) > 1:
            raise click.ClickException(f"Ambiguous command {word} matches [{', '.join(matches)}]")
        if matches:
            return matches[0]
    underscored = word.replace("-", "_")
    return underscored if underscored in names else None


def is_command_word(names: Iterable[str], word: str) -> bool:
    """Whether Thor would take ``word`` for a command (even an ambiguous one), not an alias."""
    try:
        return thor_command(names, word) is not None
    except click.ClickException:
        return True


def thor_words(command: click.Command, args: list[str]) -> list[str]:
    """``args`` with Thor's ``OPTION=VALUE`` forms for ``command``'s own options spelled as
    click reads them: ``-d=staging`` is ``-d staging``; a flag ``=true`` is the flag,
    ``=false`` its negation (or nothing); a flag with any other value is the flag followed by
    that value, as Thor leaves it. A token that is the value of the option before it, and
    everything after ``--``, stay as they are."""
    takes_value: set[str] = set()
    negation: dict[str, str | None] = {}
    known: set[str] = set()
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        known.update(param.opts, param.secondary_opts)
        if param.is_flag:
            for opt in param.opts:
                negation[opt] = param.secondary_opts[0] if param.secondary_opts else None
        else:
            takes_value.update(param.opts)
    words: list[str] = []
    value_next = False
    for index, token in enumerate(args):
        if token == "--":
            return words + args[index:]
        if value_next:
            words.append(token)
            value_next = False
            continue
        name, equals, value = token.partition("=")
        if name.startswith("--") and option_name(name) in known:
            name = option_name(name)
            token = name + equals + value
        if equals and name in negation:
            if value == "true":
                words.append(name)
            elif value == "false":
                negated = negation[name]
                if negated:  # a flag without one (--skip-hooks=false) is left out
                    words.append(negated)
            else:
                words += [name, value]
        elif equals and name in takes_value and not name.startswith("--"):
            words += [name, value]
        else:
            words.append(token)
            value_next = token in takes_value
    return words
