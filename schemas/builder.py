"""``builder``: how the image is built (arch is required)."""

from __future__ import annotations

from typing import Any

from backstaff.schemas.errors import ConfigError, join, stricter
from backstaff.schemas.validator import array, check, flag, free_hash, nested, section, text

# Docker's linux platforms; Kamal passes anything through and buildx fails later.
KNOWN_ARCHES = ("amd64", "arm64", "arm/v7", "arm/v6", "386", "ppc64le", "s390x", "riscv64")
# The other names docker gives them, which buildx takes for these (containerd's normalisation:
# ``linux/x86_64`` is ``linux/amd64``); passed on as written, as Kamal passes them.
DOCKER_SPELLINGS = ("x86_64", "x86-64", "aarch64", "arm64/v8", "i386", "armhf", "armel", "arm",
                    "arm/v5", "amd64/v2", "amd64/v3", "amd64/v4")  # fmt: skip

RULE = section(
    {
        "arch": nested(["array", "text"], doc="amd64, arm64 or a list of both (required)"),
        "remote": text(
            doc="remote builder for the arches the local docker is not, e.g. ssh://docker@builder"
        ),
        "local": flag(doc="false to build only on the remote builder"),
        "pack": section(
            {"builder": text(doc="buildpacks builder image"), "buildpacks": array(text())},
            doc="build with Cloud Native Buildpacks",
        ),
        "cache": section(
            {
                "type": text(doc="gha or registry"),
                "options": text(doc="cache options, e.g. mode=max"),
                "image": text(doc="cache image (registry type)"),
            }
        ),
        "context": text(doc="build context (the working tree); unset: a clean git clone of HEAD"),
        "dockerfile": text(doc="Dockerfile path (default Dockerfile)"),
        "target": text(doc="multi-stage build target"),
        "args": free_hash(doc="--build-arg NAME: value"),
        "secrets": array(text(), doc="secret names passed as build secrets"),
        "ssh": text(doc="--ssh value, e.g. default=$SSH_AUTH_SOCK"),
        "driver": text(doc="buildx driver: docker-container (default), docker, cloud ORG/BUILDER"),
        "provenance": text(doc="--provenance value"),
        "sbom": flag(doc="--sbom"),
    },
    doc="how the app image is built",
)


def validate(value: Any, path: str = "builder") -> list[ConfigError]:
    errors = check(value, RULE, path)
    if errors:
        return errors
    arch = value.get("arch")
    if arch is None or arch == []:
        return [ConfigError(path, "Builder arch not set")]
    arches = arch if isinstance(arch, list) else [arch]
    errors += check(arches, array(text()), join(path, "arch"))
    for name in arches:
        if str(name) not in KNOWN_ARCHES + DOCKER_SPELLINGS:
            errors.append(
                stricter(
                    join(path, "arch"),
                    f"unknown arch '{name}', must be one of: {', '.join(KNOWN_ARCHES)}"
                    " (or docker's other names for them, such as x86_64 and aarch64)",
                )
            )
    # Kamal checks the type only when there is one: a cache without it passes no cache flags.
    cache_type = (value.get("cache") or {}).get("type")
    if cache_type not in (None, False, "gha", "registry"):
        shown = "true" if cache_type is True else cache_type  # as Ruby prints it
        errors.append(ConfigError(path, f"Invalid cache type: {shown}"))
    if "pack" in value and len(arches) > 1:
        errors.append(ConfigError(path, "buildpacks only support building for one arch"))
    if value.get("local") is False and not value.get("remote"):
        errors.append(ConfigError(path, "Cannot disable local builds, no remote is set"))
    return errors
