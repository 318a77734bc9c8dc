"""The score of a mutmut run (scripts/mutation.sh): per module, then one line to grep.

Reads mutmut's result files (``mutants/**/*.py.meta``). A mutant counts as killed when its
tests did not pass: a test failed, they ran past their time limit (an endless loop) or the test
process died (a signal handler left out lets SIGTERM end it); survivors and mutants no test
reached count against the score; mutants of functions not selected are not counted. Survivors are listed in ``mutants/survivors.txt``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

KILLED = {1, 3}  # a test failed; pytest's internal error while running one
TIMEOUT = {24, -24, 36, 152, 255}
NO_TESTS = {5, 33}


def main(mutants: Path) -> int:
    total, killed = 0, 0
    survivors: list[str] = []
    for meta in sorted(mutants.rglob("*.py.meta")):
        every = json.loads(meta.read_text())["exit_code_by_key"]
        codes = {name: code for name, code in every.items() if code is not None}  # selected
        if not codes:
            continue
        counts = Counter(
            "survived" if c == 0 else "no tests" if c in NO_TESTS else "killed" if c in KILLED
            else "timeout" if c in TIMEOUT else "crashed"
            for c in codes.values()
        )  # fmt: skip
        module = meta.relative_to(mutants).as_posix().removesuffix(".meta")
        done = len(codes) - counts["survived"] - counts["no tests"]
        total, killed = total + len(codes), killed + done
        rest = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if what != "killed")
        rest = rest.replace("timeout", "killed by a timeout").replace(
            "crashed", "killed by a crash"
        )
        print(
            f"{module}: {100 * done / len(codes):.1f}% ({done} of {len(codes)}){'; ' + rest if rest else ''}"
        )
        survivors += sorted(name for name, c in codes.items() if c == 0 or c in NO_TESTS)
    (mutants / "survivors.txt").write_text("".join(f"{name}\n" for name in survivors))
    if not total:
        print("no mutants were run")
        return 1
    print(f"mutation score: {100 * killed / total:.1f}% ({killed} killed of {total} mutants)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "mutants")))
