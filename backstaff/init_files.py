"""``backstaff init``: write the starter files, never overwriting one that exists."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

HOOKS = (
    "docker-setup", "pre-connect", "pre-build", "pre-deploy", "post-deploy", "pre-app-boot",
    "post-app-boot", "pre-proxy-reboot", "post-proxy-reboot",
)  # fmt: skip


def _template(name: str) -> str:
    return resources.files("backstaff").joinpath("templates", *name.split("/")).read_text("utf-8")


def init_project(root: Path) -> list[tuple[str, bool]]:
    """Each starter file with whether it was created (False: it existed and was kept)."""
    wanted = [("config/deploy.yml", "deploy.yml", 0o644), (".kamal/secrets", "secrets", 0o600)]
    wanted += [(f".kamal/hooks/{h}.sample", f"hooks/{h}.sample", 0o755) for h in HOOKS]
    results = []
    for target, template, mode in wanted:
        path = root / target
        if path.exists():
            results.append((target, False))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_template(template), encoding="utf-8")
        path.chmod(mode)
        results.append((target, True))
    return results
