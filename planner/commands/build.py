"""Local image builds (Kamal's commands/builder): buildx when the driver wants it, otherwise
plain ``docker build`` + ``docker push``."""

from __future__ import annotations

from typing import Any

from backstaff.planner.commands.base import Cmd
from backstaff.planner.commands.words import Val, Word
from backstaff.planner.model import App


def builder_name(builder: dict[str, Any]) -> str:
    return f"kamal-local-{builder.get('driver') or 'docker-container'}"


def uses_buildx(builder: dict[str, Any], buildx_available: bool) -> bool:
    return buildx_available and (builder.get("driver") or "docker-container") != "docker"


def build_options(app: App, builder: dict[str, Any], tags: list[str]) -> list[Word]:
    tokens: list[Word] = []
    for tag in tags:
        tokens += ["-t", Val(tag)]
    tokens += ["--label", Val(f"service={app.service}")]
    for key, value in (builder.get("args") or {}).items():
        tokens += ["--build-arg", Val(f"{key}={value}")]
    for secret in builder.get("secrets") or []:
        tokens += ["--secret", Val(f"id={secret}")]
    tokens += ["--file", Val(str(builder.get("dockerfile") or "Dockerfile"))]
    if builder.get("target"):
        tokens += ["--target", Val(str(builder["target"]))]
    return tokens


def push(app: App, builder: dict[str, Any], buildx_available: bool) -> tuple[Cmd, ...]:
    tags = [app.image, app.latest_image]
    context = str(builder.get("context") or ".")
    if uses_buildx(builder, buildx_available):
        arches = builder.get("arch") or ["amd64"]
        platforms = ",".join(
            f"linux/{a}" for a in (arches if isinstance(arches, list) else [arches])
        )
        return ((
            "docker", "buildx", "build", "--output=type=registry", "--platform", Val(platforms),
            "--builder", Val(builder_name(builder)), *build_options(app, builder, tags), Val(context),
        ),)  # fmt: skip
    build: Cmd = ("docker", "build", *build_options(app, builder, tags), Val(context))
    return (build, *(("docker", "push", Val(tag)) for tag in tags))


def create(builder: dict[str, Any]) -> Cmd:
    driver = builder.get("driver") or "docker-container"
    return (
        "docker",
        "buildx",
        "create",
        "--name",
        Val(builder_name(builder)),
        Val(f"--driver={driver}"),
    )


def remove(builder: dict[str, Any]) -> Cmd:
    return ("docker", "buildx", "rm", Val(builder_name(builder)))
