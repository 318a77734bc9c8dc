"""``python -m tests.testbed up [N] | down | status``: the test bed from the shell."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from tests import testbed


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    try:
        if command == "up":
            bed = testbed.up(int(argv[1]) if len(argv) > 1 else 3)
            print(json.dumps(asdict(bed), indent=2))
        elif command == "down":
            testbed.down()
            print("test bed removed")
        elif command == "status":
            bed = testbed.load()
            print(json.dumps(asdict(bed), indent=2) if bed else "no test bed is up")
        else:
            print("usage: python -m tests.testbed up [N] | down | status", file=sys.stderr)
            return 2
    except testbed.TestbedError as exc:
        print(f"test bed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
