"""schemas/psych_yaml.py against the real Psych (Ruby's YAML, which Kamal reads deploy.yml with):
the type and text of every plain scalar, Symbol#inspect, merge keys, and whole documents.
``ruby`` comes from scripts/setup.sh; its Psych 4 scans scalars as Psych 5 (Kamal's) does."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backstaff.schemas.errors import ConfigErrors
from backstaff.schemas.load import parse_yaml
from backstaff.schemas.psych_yaml import PsychValueError, RubySymbol, tokenize
from backstaff.schemas.ruby_text import inspect, to_s

RUBY_CLASSES = {bool: "Boolean", int: "Integer", float: "Float", RubySymbol: "Symbol",
                str: "String", type(None): "NilClass", datetime.date: "Date",
                datetime.datetime: "Time"}  # fmt: skip


def run_ruby(program: str, data: Any) -> Any:
    path = shutil.which("ruby")
    assert path, "ruby is not installed: run scripts/setup.sh (Debian package ruby)"
    done = subprocess.run([path, "-rjson", "-ryaml", "-rdate", "-e", program],
                          input=json.dumps(data), capture_output=True, text=True, timeout=60,
                          check=True, env={"PATH": "/usr/bin:/bin", "TZ": "UTC", "LANG": "C.UTF-8"})  # fmt: skip
    return json.loads(done.stdout)


def ruby_tokenize(texts: list[str]) -> list[list[str]]:
    """[class, to_s, inspect] of each text by Psych's own scanner, or ["error", message]."""
    program = """
    scanner = Psych::ScalarScanner.new(Psych::ClassLoader.new)
    puts(JSON.parse(STDIN.read).map { |t|
      begin
        v = scanner.tokenize(t)
        kind = (v == true || v == false) ? "Boolean" : v.class.name
        [kind, v.to_s, v.inspect]
      rescue ArgumentError, NoMethodError => e
        ["error", e.class.name]
      end
    }.to_json)
    """
    result: list[list[str]] = run_ruby(program, texts)
    return result


def _ours(text: str) -> list[str]:
    try:
        value = tokenize(text)
    except PsychValueError as exc:
        return ["error", "NoMethodError" if "match' for nil" in str(exc) else "ArgumentError"]
    return [RUBY_CLASSES[type(value)], to_s(value), inspect(value)]


def _digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=low, max_size=high)


def _number(low: int, high: int, width: int = 1) -> st.SearchStrategy[str]:
    """A number from ``low`` to ``high``, written with ``width`` digits or more, or with 2."""
    return st.tuples(st.integers(low, high), st.sampled_from([width, 2])).map(
        lambda pair: str(pair[0]).zfill(pair[1])
    )


def _join(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


SIGN = st.sampled_from(["", "", "-", "+"])
# Ruby has a year 0 (and before); Python's dates start at year 1, so such a date stays text;
# and after the calendar reform (as test_ruby_text).
YEAR = st.integers(1600, 2999).map(str)
DATE = _join(YEAR, st.just("-"), _number(0, 13), st.just("-"), _number(0, 32))
CLOCK = _join(_number(0, 25), st.just(":"), _number(0, 60, 2), st.just(":"), _number(0, 61, 2))
ZONE = st.sampled_from(["", "Z", " Z", "+05:30", "-05:30", "-0800", "+5", "-00:30", "+530",
                        "+24:00", "+23:59", "-1", " +01:00"])  # fmt: skip
NUMBERISH = st.text("0123456789_,", min_size=1, max_size=6)
# Texts near every branch of Psych's scanner: numbers with commas and underscores, base 60,
# dates and times (valid or just past a limit) with zones, symbols, null and booleans in any
# case, multi-line texts, and random mixtures.
PLAIN = st.one_of(
    st.text("0123456789-+:._,eExXbBoOTtZz :\"'yesnotrufalinNY~@=\t\n", min_size=1, max_size=12),
    _join(
        SIGN,
        NUMBERISH,
        st.sampled_from(["", ".", ".5", "e+3", ".e-2", ".", "E-2", ".E+4"]),
        NUMBERISH,
    ),  # fmt: skip
    _join(SIGN, st.sampled_from(["0b", "0x", "0", ""]), NUMBERISH),
    _join(SIGN, st.just("0b"), st.text("01_,", min_size=1, max_size=6)),
    _join(
        SIGN,
        _digits(1, 3),
        st.sampled_from([":"]),
        _digits(1, 2),
        st.sampled_from(["", ":", ":5", "."]),
        _digits(0, 3),
    ),  # fmt: skip
    _join(st.sampled_from(["", "-"]), DATE),
    _join(
        DATE,
        st.sampled_from([" ", "T", "t", "  "]),
        CLOCK,
        st.sampled_from(["", ".5", ".123", ".", ".123456"]),
        ZONE,
    ),  # fmt: skip
    _join(st.just(":"), st.text("abAB_?!=@$\"' -9", max_size=6)),
    st.sampled_from(
        [
            "~",
            "null",
            "NULL",
            "nUlL",
            "yes",
            "No",
            "oN",
            "OFF",
            "y",
            "n",
            "true",
            "TRUE",
            "False",
            ".inf",
            "-.Inf",
            "+.INF",
            ".nan",
            ".NaN",
            "<<",
            "=",
            "1\n2",
            "on\nno",
            "~\n~",
            "y\nes",
            "12\n:30",
            "0x1\n",
        ]
    ),  # fmt: skip
)


@settings(max_examples=12, deadline=None)
@given(texts=st.lists(PLAIN, min_size=60, max_size=60))
def test_plain_scalars_are_read_as_psych_reads_them(texts: list[str]) -> None:
    pairs = zip(texts, ruby_tokenize(texts), strict=True)
    different = [(t, _ours(t), r) for t, r in pairs if _ours(t) != _same(r)]
    assert not different


# Every limit of the scanner, each time (hypothesis meets them only now and then): the limits of
# a time's parts, zero offsets, short multi-line texts, symbols, base 60 with underscores.
EDGES = [
    "2024-12-31 23:59:60Z", "2024-13-01 10:00:00", "2024-00-01 10:00:00", "2024-01-01 24:00:00",
    "2024-01-01 24:00:01", "2024-01-01 10:60:00", "2024-01-01 10:59:61", "2024-01-01 10:59:59",
    "2024-02-30 10:00:00 +05:30", "2024-01-01 10:00:00 +00:00", "2024-01-01 10:00:00 -05:30",
    "2024-01-01 10:00:00 -00:30", "2024-01-01 10:00:00.5", "2024-1-5 1:02:03 +0530",
    "2024-01-31 10:00:00", "2024-01-32 10:00:00", "2024-01-00 10:00:00",
    "2024-02-29", "2023-02-29", "2024-12-31", "2024-13-01",
    "on\nfoo_bar", "yes\nno", "a\non", "~\nnull", ".NaN", ".nan", "-.INF", "+.Inf",
    ':"a b"', ":'q'", ':"x":y', "::1", ":fast", ":9",
    "1_0:30", "1__0:30:00", "1_0:30.5_5", "-1:30", "+1:30", "0:30.", "05:30",
    "00", "0", "07", "010", "-0b101", "0b1,0", "0x_1", "1,000", "1.E+5", "1.e+5", "+.5", "-.",
]  # fmt: skip


def test_the_scanners_limits_are_psychs() -> None:
    assert [_ours(t) for t in EDGES] == [_same(r) for r in ruby_tokenize(EDGES)]


def test_a_time_without_zone_is_in_this_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Psych's ``Time.at``: the local zone of the machine running Kamal (here: India's)."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        value = tokenize("2024-01-01 10:00:00")
        program = 'ENV["TZ"] = "Asia/Kolkata"; t = YAML.unsafe_load("a: 2024-01-01 10:00:00")["a"]'
        assert run_ruby(program + "; puts [t.to_s].to_json", None) == [to_s(value)]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert to_s(value) == "2024-01-01 15:30:00 +0530"


def test_a_time_keeps_six_fractional_digits() -> None:
    """Ruby keeps them all (docs/kamal-differences.md: not emulated); Python's time has six."""
    value = tokenize("2024-01-01 10:00:00.1234567Z")
    assert isinstance(value, datetime.datetime) and value.microsecond == 123456


def _same(ruby: list[str]) -> list[str]:
    """A Symbol's inspect is checked on its own, on names Ruby 3.1 and 3.3 agree on (3.1 shows
    ``:9=`` and ``:'=`` unquoted)."""
    if ruby[0] == "Symbol":
        return [*ruby[:2], inspect(RubySymbol(ruby[1]))]
    return ruby


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:30", 5400),  # base 60 as Psych computes it (PyYAML: 90)
        ("05:30", 19800),  # a leading zero too (PyYAML: text)
        ("1:2:3", 3723),
        ("80,443", 80443),  # commas in numbers (PyYAML: text)
        ("0,1", 1),
        ("2024-02-30", "2024-02-30"),  # no such day: text (PyYAML stopped with ValueError)
        (":web", RubySymbol("web")),
        ("yEs", True),
        ("=", "="),  # PyYAML: "could not determine a constructor for the tag ...value"
        ("+.5", 0.5),
        ("1e3", "1e3"),
    ],
)
def test_values_pyyaml_read_otherwise(text: str, expected: object) -> None:
    value = tokenize(text)
    assert value == expected and type(value) is type(expected)


def test_a_time_python_cannot_hold_stays_text() -> None:
    """Ruby has years before 1 (docs/kamal-differences.md: not emulated); the text is kept."""
    assert tokenize("-2024-01-01 10:00:00Z") == "-2024-01-01 10:00:00Z"
    assert tokenize("0000-01-01 10:00:00Z") == "0000-01-01 10:00:00Z"
    assert ruby_tokenize(["-2024-01-01 10:00:00Z"])[0][0] == "Time"


def test_a_symbol_is_its_name_in_a_command_and_keeps_its_colon_in_a_list() -> None:
    """Kamal writes a Symbol with ``to_s`` (no colon); inside a docker option given a list,
    with ``inspect``."""
    value = tokenize(":core")
    assert f"{value}" == "core" and to_s([value]) == "[:core]"
    assert ruby_tokenize([":core"]) == [["Symbol", "core", ":core"]]


# Names of letters, digits, "_", spaces, with a "?" or "!" at the end: where the Ruby 3.1
# here and Kamal's 3.3 agree (3.1 shows ":9=", ": =" and ":'=" unquoted, for one).
SYMBOL_NAMES = _join(st.text("abcAB_9 é", min_size=1, max_size=4),
                     st.sampled_from(["", "?", "!"])).filter(lambda n: not n[0].isdigit())  # fmt: skip


@settings(max_examples=10, deadline=None)
@given(names=st.lists(SYMBOL_NAMES, min_size=40, max_size=40))
def test_symbol_inspect_is_rubys(names: list[str]) -> None:
    names = [*names, "@x", "@@y", "$x", "+", "[]", "<=>", "Foo?", "a b", "", "A=", "_="]
    program = "puts(JSON.parse(STDIN.read).map { |n| n.to_sym.inspect }.to_json)"
    pairs = zip(names, run_ruby(program, names), strict=True)
    different = [(n, inspect(RubySymbol(n)), r) for n, r in pairs if inspect(RubySymbol(n)) != r]
    assert not different


DOCUMENTS = [
    # A merge key merges in place (Hash#merge!): before it overridden, after it overriding.
    "base: &base {a: 1, b: 2}\nc:\n  b: 0\n  <<: *base\n  a: 3\n",
    "base: &base {a: 1, b: 2}\nc:\n  <<: *base\n  b: 5\n",
    # A list of hashes: the first one wins; a quoted "<<" merges too.
    'x: &x {a: 1}\ny: &y {a: 2, b: 2}\nc:\n  <<: [*x, *y]\n  "<<": {d: 4}\n',
    # A "<<" whose value is no hash stays a key.
    "c:\n  <<: 1\n  d: 2\n",
    # Typical deploy.yml values.
    "env:\n  clear:\n    PORTS: 80,443\n    AT: 05:30\n    MODE: :fast\n    ON: on\n"
    "    DAY: 2024-02-30\n    WHEN: 2024-01-01 10:00:00 +05:30\n    RATIO: 1_000.5\n",
    "servers:\n  web:\n    - 10.0.0.1\n    - '1:30'\n    - \"80,443\"\n    - |\n      05:30\n",
    # A tag Psych gives no meaning: the text as if untagged (quoted or not), a Hash, an Array;
    # a real config's "<<" whose value is so a text stays a key.
    "<<: !ruby/object:YAML.load_file config/deploy.yml\na: !custom '05:30'\nb: !x |\n  12\n"
    "c: !foo\n  d: 1\n  <<: {e: 2}\nf: !foo [1, '2', x]\nh: !custom\ni: ! 12\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_documents_load_as_psych_loads_them(text: str) -> None:
    program = "puts(JSON.parse(STDIN.read).map { |t| YAML.unsafe_load(t).inspect }.to_json)"  # Ruby's inspect of the whole document: keys, order, types
    (expected,) = run_ruby(program, [text])
    data, _ = parse_yaml(text, "deploy.yml")
    assert inspect(data) == expected


@pytest.mark.parametrize(
    "text", ["a: !ruby/object:Foo\n  x: 1\n", "a: !ruby/sym x\n", "a: !ruby/regexp /x/\n"]
)
def test_a_tag_psych_gives_a_meaning_of_its_own_is_refused(text: str) -> None:
    """Psych makes objects of these (or stops: ``undefined class/module Foo``); backstaff
    refuses them, naming the tag and where it is."""
    with pytest.raises(ConfigErrors) as caught:
        parse_yaml(text, "deploy.yml")
    assert "deploy.yml: YAML error at line 1, column 4" in str(caught.value)
    assert text.split()[1] in str(caught.value)


def test_a_number_ruby_refuses_is_an_error_naming_file_line_and_column() -> None:
    with pytest.raises(ConfigErrors) as caught:
        parse_yaml("env:\n  clear:\n    A: 0x_\n", "config/deploy.yml")
    assert str(caught.value) == (
        'config/deploy.yml: YAML error at line 3, column 8: invalid value for Integer(): "0x"'
    )
    assert ruby_tokenize(["0x_"]) == [["error", "ArgumentError"]]


def test_a_number_written_with_a_colon_or_a_comma_gets_a_note() -> None:
    """Kamal reads them as numbers too, silently: a note says so, and how to keep the text."""
    text = "env:\n  clear:\n    AT: 05:30\n    PORTS: 80,443\n    QUOTED: '05:30'\n    N: 5\n"
    data, notes = parse_yaml(text, "config/deploy.yml")
    assert data["env"]["clear"] == {"AT": 19800, "PORTS": 80443, "QUOTED": "05:30", "N": 5}
    assert notes == (
        "config/deploy.yml: line 3: 05:30 is the number 19800, as Kamal reads it (YAML 1.1: a"
        " colon counts in base 60, a comma is left out); quote it to keep the text",
        "config/deploy.yml: line 4: 80,443 is the number 80443, as Kamal reads it (YAML 1.1: a"
        " colon counts in base 60, a comma is left out); quote it to keep the text",
    )


def test_a_key_python_cannot_hold_is_an_error_naming_the_line() -> None:
    """Ruby takes a list as a key; a Python dict cannot: one error, no traceback."""
    with pytest.raises(ConfigErrors) as caught:
        parse_yaml("env:\n  ? [a, b]\n  : 1\n", "config/deploy.yml")
    assert str(caught.value) == (
        "config/deploy.yml: YAML error at line 2, column 5: found unhashable key while"
        " constructing a mapping"
    )
