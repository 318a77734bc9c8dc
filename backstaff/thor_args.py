"""Kamal's command lines as Thor reads them, for click.

Thor (Kamal's CLI library) takes forms click reads differently or refuses: ``-d=staging``
(click would read the value ``=staging``), a flag given ``=true`` or ``=false`` (``-q=false``,
``--verbose=false``), a flag followed by the word ``true`` or ``false`` (``app exec --reuse
true``: Thor takes the word for the flag's value, so the command is missing, as in Kamal),
``--config_file`` for ``--config-file``, ``app stale-containers`` for
``stale_containers``, and a command by any prefix that names one command only (``kamal dep``
deploys; ``kamal de`` is ambiguous: deploy or details). A prefix is a command before it is an
alias, as in Thor.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

# The words Thor takes for a boolean option's value when one follows it (Thor::Options).
THOR_TRUE, THOR_FALSE = (
    frozenset({"true", "TRUE", "t", "T"}),
    frozenset({"false", "FALSE", "f", "F"}),
)
THOR_VALUES = THOR_TRUE | THOR_FALSE
# The name of a command's hidden copy of a global option starts with this (global_options.py).
GLOBAL_COPY = "global_"


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
    that value, as Thor leaves it. A flag followed by a word of ``THOR_TRUE`` or ``THOR_FALSE``
    takes it as its value, as Thor does (the global options between a command's own flag and
    the word do not count: Kamal reads them before the command's). A token that is the value
    of the option before it, and everything after ``--``, stay as they are."""
    takes_value: set[str] = set()
    negation: dict[str, str | None] = {}  # a flag's spellings -> its negation
    positive: dict[str, str] = {}  # a flag's spellings -> the flag
    known: set[str] = set()
    global_copies: set[str] = set()
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        known.update(param.opts, param.secondary_opts)
        if (param.name or "").startswith(GLOBAL_COPY):
            global_copies.update(param.opts, param.secondary_opts)
        if param.is_flag:
            negated = param.secondary_opts[0] if param.secondary_opts else None
            for opt in (*param.opts, *param.secondary_opts):
                negation[opt], positive[opt] = negated, param.opts[0]
        else:
            takes_value.update(param.opts)
    words: list[str] = []
    value_next = False
    taken: set[int] = set()  # the indexes of true/false words taken by the flag before them
    for index, token in enumerate(args):
        if index in taken:
            continue
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
        if not equals and name in negation:
            word = _flag_value(args, index, name not in global_copies, global_copies, takes_value)
            if word is None:
                words.append(token)
                continue
            taken.add(word)
            value, equals = ("true" if args[word] in THOR_TRUE else "false"), "="
        if equals and name in negation:
            if value == "true":
                words.append(positive[name])
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


def _flag_value(
    args: list[str], index: int, own: bool, global_copies: set[str], takes_value: set[str]
) -> int | None:
    """The index of the true/false word a flag at ``index`` takes for its value, if one
    follows it; for a command's own flag, past the global options Kamal reads first."""
    following = index + 1
    while own and following < len(args) and args[following].partition("=")[0] in global_copies:
        name, equals, _ = args[following].partition("=")
        following += 1
        if not equals and (
            name in takes_value or following < len(args) and args[following] in THOR_VALUES
        ):
            following += 1  # its value: a global flag's true/false word is its own
    if following < len(args) and args[following] in THOR_VALUES:
        return following
    return None
