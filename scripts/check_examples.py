"""Break, by hand, each behaviour issue #17 named, one at a time, and check a test notices.

Each example is one textual change to a copy of the tree (laid out as the package installs, so
the tests import the copy: tests/mutation_plugin.py checks it); the tests that need no test bed
and cover it must fail. The unchanged copy must pass them first, so a failure is the change's.
Usage: python3 scripts/check_examples.py [NAME-SUBSTRING ...]; exit 1 if a change goes unseen.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
# Files the quoting tests' hostile values create when the quoting is broken (the tests check
# they do not exist, so one left behind would fail every later run, anyone's).
CANARIES = {Path("/tmp/p")}


class Example(NamedTuple):
    name: str
    path: str  # as laid out: backstaff/planner/plan.py
    old: str
    new: str
    tests: tuple[str, ...]


PLAN = "backstaff/planner/plan.py"
APPLY = "backstaff/executors/apply.py"
MASKING = "backstaff/schemas/masking.py"
EXAMPLES = [
    Example("stale-plan check removed in check_saved", PLAN,
            '        return "stale plan: the hosts changed since it was made"\n',
            "        pass\n", ("tests/planner/test_saved_plan.py",)),
    Example("stale-plan check removed, the fingerprint not compared at all", PLAN,
            '    if saved.get("live_fingerprint") != fresh.get("live_fingerprint"):\n'
            '        return "stale plan: the hosts changed since it was made"\n',
            '    saved = {k: v for k, v in saved.items() if k != "live_fingerprint"}\n'
            '    fresh = {k: v for k, v in fresh.items() if k != "live_fingerprint"}\n',
            ("tests/planner/test_saved_plan.py",)),
    Example("config-digest check removed", PLAN,
            '        return "this plan was made for another config or destination"\n',
            "        pass\n", ("tests/planner/test_saved_plan.py",)),
    Example("config-digest check removed, the digest not compared at all", PLAN,
            '    if saved.get("config_digest") != fresh.get("config_digest"):\n'
            '        return "this plan was made for another config or destination"\n'
            '    if saved.get("live_fingerprint")',
            '    old0, new0 = dict(saved), dict(fresh)\n    old0.pop("config_digest", None)\n'
            '    new0.pop("config_digest", None)\n    saved, fresh = old0, new0\n'
            '    if saved.get("live_fingerprint")', ("tests/planner/test_saved_plan.py",)),
    Example("plan --detailed-exitcode exits 1 instead of 2", "backstaff/commands_plan.py",
            "detailed_exitcode and result.has_changes:\n        _exit(ExitStatus.CHANGES)",
            "detailed_exitcode and result.has_changes:\n        _exit(ExitStatus.ERROR)",
            ("tests/backstaff/test_exit_codes.py",)),
    Example("an unreachable host no longer exits 1", "backstaff/commands_plan.py",
            "    if result.errors:\n        _exit(ExitStatus.ERROR)\n    if detailed_exitcode",
            "    if detailed_exitcode", ("tests/backstaff/test_exit_codes.py",)),
    Example("ctx.exit(2) turned into 0 by main()", "backstaff/cli.py",
            "            return code  # ctx.exit(code)", "            pass  # ctx.exit(code)",
            ("tests/backstaff/test_exit_codes.py",)),
    Example("lock not released after a failed step", APPLY,
            "            if acquired:  # never leave the lock behind\n",
            "            if False:  # never leave the lock behind\n",
            ("tests/executors/test_apply_engine.py",)),
    Example("new steps scheduled after a failure", APPLY,
            "                if not failed.is_set():\n", "                if True:\n",
            ("tests/executors/test_apply_engine.py",)),
    Example("masking skips secrets shorter than 7 characters", MASKING,
            "frozenset(s for s in secrets if s)", "frozenset(s for s in secrets if len(s) >= 7)",
            ("tests/schemas/test_masking.py",)),
    Example("masking the shortest secret first", MASKING,
            "key=lambda v: (-len(v), v)", "key=lambda v: (len(v), v)",
            ("tests/schemas/test_masking.py",)),
    Example("$( left unescaped by the quoting", "backstaff/planner/commands/words.py",
            'SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")',
            'SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./$()-]+")',
            ("tests/planner/commands/test_words.py",)),
    Example("an accessory's env change ignored by the diff", "backstaff/planner/diff.py",
            '    _env(found, accessory.env, container, _image_env(state, container), secrets, ("KAMAL_HOST",))\n',
            "", ("tests/planner/test_diff.py",)),
    Example("a newly added secret env var ignored by the diff", "backstaff/planner/diff.py",
            '            found.add(f"secret added: {name}", path, ADDED, sensitive=True)\n',
            "            pass\n", ("tests/planner/test_diff.py",)),
    Example("a percentage boot.limit rounds up", "backstaff/planner/graph.py",
            "max(math.floor(len(app.all_hosts)", "max(math.ceil(len(app.all_hosts)",
            ("tests/planner/test_graph.py",)),
]  # fmt: skip


def lay_out(tree: Path) -> None:
    """The tree as the package installs (schemas/, planner/, executors/ inside backstaff/)."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "backstaff", tree / "backstaff", ignore=ignore)
    for sub in ("schemas", "planner", "executors"):
        shutil.copytree(ROOT / sub, tree / "backstaff" / sub, ignore=ignore)
    for name in ("tests", "fixtures", "docs"):
        shutil.copytree(ROOT / name, tree / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")


def pytest(tree: Path, tests: tuple[str, ...]) -> int:
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not testbed",
               "-p", "no:cacheprovider", "-p", "tests.mutation_plugin", *tests,
               # it reads the source files by their checkout paths, which this layout lacks
               "--deselect", "tests/planner/commands/test_words.py::test_shell_syntax_comes_only_from_constants"]  # fmt: skip
    return subprocess.run(command, cwd=tree, capture_output=True, check=False).returncode


def main(wanted: list[str]) -> int:
    chosen = [e for e in EXAMPLES if not wanted or any(w in e.name for w in wanted)]
    unseen = 0
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "mutants"  # the name tests/mutation_plugin.py expects
        lay_out(tree)
        existing = {canary for canary in CANARIES if canary.exists()}
        for tests in dict.fromkeys(e.tests for e in chosen):
            if (code := pytest(tree, tests)) != 0:
                print(f"the unchanged tree fails {' '.join(tests)} (exit {code}): fix that first")
                return 1
        for example in chosen:
            path = tree / example.path
            original = path.read_text()
            if original.count(example.old) != 1:
                print(f"? {example.name}: the code to change is not in {example.path} once")
                unseen += 1
                continue
            path.write_text(original.replace(example.old, example.new))
            try:
                code = pytest(tree, example.tests)
            finally:
                path.write_text(original)
                for canary in CANARIES - existing:  # what a value run as a command made
                    canary.unlink(missing_ok=True)
            seen = code == 1  # tests failed (not a collection or usage error)
            unseen += not seen
            print(f"{'caught' if seen else 'UNSEEN'} (pytest exit {code}): {example.name}")
    print(f"{len(chosen) - unseen} of {len(chosen)} changes caught by a test without the test bed")
    return 1 if unseen else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
