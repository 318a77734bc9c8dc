"""schemas/ruby_text.py's ``to_s`` and ``inspect`` against the real Ruby: what Kamal writes into
a command for a config value YAML loaded (a docker option given a list, a hash, a float, a
null). The same YAML text goes to Psych and to PyYAML, so the values are the ones each tool
reads. ``ruby`` comes from scripts/setup.sh."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from backstaff.schemas.psych_yaml import PsychLoader
from backstaff.schemas.ruby_text import inspect, to_s
from tests.schemas.helpers import kamal_yaml

# Characters both Unicode tables agree on (the system Ruby's is older than Python's: Ruby 3.1
# has Unicode 13.0, where U+061D, the one character below U+0800 that 14.0 added, is
# unassigned and inspect escapes it; Kamal's Ruby 3.3 prints it, as backstaff does).
TEXT = st.text(
    alphabet=st.characters(
        max_codepoint=0x7FF, exclude_categories=("Cs", "Cn"), exclude_characters="\u061d"
    )
    | st.sampled_from("\u00a0\u200b\u2028\u2029\ue000\U0001f600"),
    max_size=8,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=True),
    TEXT,
    st.dates(min_value=datetime.date(1583, 1, 1)),  # after Italy's calendar reform
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def ruby(texts: list[str]) -> list[list[str]]:
    """[to_s, inspect] of the value each YAML text holds, by the real Ruby's Psych."""
    path = shutil.which("ruby")
    assert path, "ruby is not installed: run scripts/setup.sh (Debian package ruby)"
    program = (
        'require "json"; require "yaml"; require "date"; puts(JSON.parse(STDIN.read).map { |t|'
        ' v = YAML.unsafe_load(t)["v"]; [v.to_s, v.inspect] }'
        ".to_json)"
    )
    done = subprocess.run([path, "-e", program], input=json.dumps(texts), capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    answer: list[list[str]] = json.loads(done.stdout)
    return answer


@settings(max_examples=15, deadline=None)
@given(values=st.lists(VALUES, min_size=25, max_size=25))
def test_to_s_and_inspect_are_rubys(values: list[object]) -> None:
    texts = [kamal_yaml({"v": value}, allow_unicode=True) for value in values]
    loaded = [_load(text) for text in texts]
    assert [[to_s(v), inspect(v)] for v in loaded] == ruby(texts)


def test_floats_near_the_fixed_notations_edges_are_rubys() -> None:
    """Ruby writes a float in fixed notation up to 15 places, or up to 16 while it has a
    fraction (found by the test above: 1000000000000000.5 was written 1.0000000000000005e+15)."""
    values = [1e15, 1000000000000000.5, -1000000000000002.5, 1234567890123456.7, 1.5e15,
              1234567890123456.0, 1e16, 9999999999999998.0, 100000000000000.5, 0.0001, 1.5e-5]  # fmt: skip
    texts = [kamal_yaml({"v": value}) for value in values]
    assert [[to_s(v), inspect(v)] for v in map(_load, texts)] == ruby(texts)


def test_what_kamal_writes_for_an_option_given_a_hash() -> None:
    """A real config (corpus ``elixirevents``) gives a role's ``options: env:`` a hash: Kamal's
    ``optionize`` makes a flag of each pair, the pair's Ruby text its value."""
    text = 'v: [clear, {PHX_SERVER: "true", OBAN_QUEUES: none}]\n'
    assert to_s(_load(text)) == '["clear", {"PHX_SERVER"=>"true", "OBAN_QUEUES"=>"none"}]'
    assert ruby([text])[0][0] == to_s(_load(text))


def test_symbols_and_times_are_written_as_ruby_writes_them() -> None:
    texts = ["v:\n- :fast\n- :\"a b\"\n", "v: 2024-01-01 10:00:00.5Z\n", "v: 2024-01-01 10:00:00 +05:30\n",
             "v: {at: 2024-01-01 10:00:00 -08:00}\n"]  # fmt: skip
    assert [[to_s(_load(t)), inspect(_load(t))] for t in texts] == ruby(texts)


def _load(text: str) -> object:
    return yaml.load(text, Loader=PsychLoader)["v"]
