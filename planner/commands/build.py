"""Image builds as Kamal 2.11 runs them (its commands/builder/*.rb): ``docker buildx build``
on a local, remote, hybrid or cloud builder, or ``pack build``; and the clean clone of HEAD
the build runs in (commands/builder/clone.rb). Pure: the facts (local docker arch, git root,
temp dir) come from the caller."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from backstaff.planner.commands.base import Cmd
from backstaff.planner.commands.words import AND, OR, PIPE, SEMI, STDERR_TO_STDOUT, Raw, Val, Word
from backstaff.planner.model import App

GHA_FROM_OPTIONS = re.compile(r"^(url|url_v2|token|scope|timeout)=")
OUTPUTS_WITHOUT_BUILDX = ("registry", "docker")


@dataclass(frozen=True)
class Builder:
    """The builder section resolved as Kamal's configuration/builder.rb resolves it."""

    app: App
    image: str  # the config's image, without the registry server
    config: dict[str, Any]
    docker_arch: str  # the local docker's architecture (`docker info`), "" when unknown

    @property
    def driver(self) -> str:
        return str(self.config.get("driver", "docker-container"))

    @property
    def remote(self) -> str | None:
        remote = self.config.get("remote")
        return str(remote) if remote else None

    @property
    def arches(self) -> list[str]:
        arch = self.config.get("arch", [] if self.driver == "docker" else ["amd64", "arm64"])
        return [str(a) for a in (arch if isinstance(arch, list) else [arch])]

    @property
    def local_disabled(self) -> bool:
        return self.config.get("local") is False

    @property
    def local_arches(self) -> list[str]:
        if self.local_disabled:
            return []
        if self.remote:
            return [a for a in self.arches if a == self.docker_arch]
        return self.arches

    @property
    def remote_arches(self) -> list[str]:
        return [a for a in self.arches if a not in self.local_arches] if self.remote else []

    @property
    def kind(self) -> str:
        """Kamal's builder target: local, remote, hybrid, pack or cloud."""
        if self.remote_arches:
            local = not self.local_disabled and (not self.arches or bool(self.local_arches))
            return "hybrid" if local else "remote"
        if self.config.get("pack"):
            return "pack"
        return "cloud" if self.driver.startswith("cloud") else "local"

    @property
    def git_clone(self) -> bool:
        """Kamal builds a clean clone of HEAD unless ``context`` is set."""
        return self.config.get("context") is None

    @property
    def context(self) -> str:
        return str(self.config.get("context") or ".")

    @property
    def dockerfile(self) -> str:
        return str(self.config.get("dockerfile") or "Dockerfile")

    @property
    def login_locally(self) -> bool:
        return self.kind not in ("remote", "hybrid")

    @property
    def push_env(self) -> dict[str, str]:
        return {"BUILDKIT_NO_CLIENT_TOKEN": "1"} if self.kind in ("remote", "hybrid") else {}

    @property
    def name(self) -> str:
        """The buildx builder's name."""
        kind = self.kind
        if kind == "cloud":
            return re.sub(r"[ /]", "-", self.driver)
        if kind == "local":
            registry = "registry-" if self.app.registry.local else ""
            return f"kamal-local-{registry}{self.driver}"
        suffix = re.sub(r"[^a-z0-9_-]", "-", self.remote or "")
        suffix += "-local-registry" if self.app.registry.local else ""
        return (
            f"kamal-hybrid-{self.driver}-{suffix}" if kind == "hybrid" else f"kamal-remote-{suffix}"
        )

    @property
    def uses_builder(self) -> bool:
        """Every kind but local with the docker driver names a buildx builder."""
        return not (self.kind in ("local", "pack") and self.driver == "docker")


def resolve(app: App, config: dict[str, Any], docker_arch: str) -> Builder:
    return Builder(
        app, str(config.get("image") or ""), dict(config.get("builder") or {}), docker_arch
    )


def _ruby_s(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _present(value: Any) -> bool:
    """Ruby's ``present?``: not nil, false, blank text or an empty collection."""
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, list | dict):
        return bool(value)
    return True


def _argumentize(flag: str, pairs: dict[str, Any]) -> list[Word]:
    """Kamal's Utils.argumentize over a hash: ``KEY=value``, ``KEY=false`` or just ``KEY``."""
    tokens: list[Word] = []
    for key, value in pairs.items():
        if _present(value):
            tokens += [flag, Val(f"{key}={_ruby_s(value)}")]
        elif value is False:
            tokens += [flag, Val(f"{key}=false")]
        else:
            tokens += [flag, Val(str(key))]
    return tokens


def _platform(arches: list[str]) -> list[Word]:
    return ["--platform", Val(",".join(f"linux/{a}" for a in arches))] if arches else []


def _tags(b: Builder, dirty: bool) -> list[Word]:
    names = [b.app.image, b.app.latest_image]
    return [w for name in names for w in ("-t", Val(f"{name}-dirty" if dirty else name))]


def _cache(b: Builder) -> list[Word]:
    cache = b.config.get("cache")
    if not cache or cache.get("type") not in ("gha", "registry"):
        return []
    options = cache.get("options")
    if cache["type"] == "gha":
        chosen = [o for o in str(options or "").split(",") if GHA_FROM_OPTIONS.match(o)]
        to = ",".join(["type=gha", *([str(options)] if options is not None else [])])
        frm = ",".join(["type=gha", *chosen])
    else:
        image = cache.get("image") or f"{b.image}-build-cache"
        ref = "/".join(p for p in (b.app.registry.server, str(image)) if p)
        to = ",".join(
            [f"type=registry,ref={ref}", *([str(options)] if options is not None else [])]
        )
        frm = f"type=registry,ref={ref}"
    return ["--cache-to", Val(to), "--cache-from", Val(frm)]


def build_options(b: Builder) -> list[Word]:
    """Kamal's build_options, in its order: cache, label, args, secrets, file, target, ssh,
    provenance, sbom. Secrets are named only (``--secret id=NAME``): the values go in the
    environment of the build."""
    c = b.config
    tokens: list[Word] = [*_cache(b), "--label", Val(f"service={b.app.service}")]
    tokens += _argumentize("--build-arg", dict(c.get("args") or {}))
    for secret in c.get("secrets") or []:
        tokens += ["--secret", Val(f"id={secret}")]
    tokens += ["--file", Val(b.dockerfile)]
    if _present(c.get("target")):
        tokens += ["--target", Val(_ruby_s(c["target"]))]
    if _present(c.get("ssh")):
        tokens += ["--ssh", Val(_ruby_s(c["ssh"]))]
    for key in ("provenance", "sbom"):
        if c.get(key) is not None:
            tokens += [f"--{key}", Val(_ruby_s(c[key]))]
    return tokens


def push(
    b: Builder, output: str = "registry", *, no_cache: bool = False, dirty: bool = False
) -> Cmd:
    """Build (and with ``--output=registry`` push) the version's image, run in the build
    directory (the clone, or the project with ``context``)."""
    if b.kind == "pack":
        return _pack_push(b, output, no_cache=no_cache, dirty=dirty)
    builder: list[Word] = ["--builder", Val(b.name)] if b.uses_builder else []
    return (
        "docker", "buildx", "build", Val(f"--output=type={output}"), *_platform(b.arches),
        *builder, *_tags(b, dirty),
        *build_options(b), *(["--no-cache"] if no_cache else []), Val(b.context),
        STDERR_TO_STDOUT,
    )  # fmt: skip


def _pack_push(b: Builder, output: str, *, no_cache: bool, dirty: bool) -> Cmd:
    """``pack build``, then ``docker push`` of both tags for ``--output=registry``. Build
    secrets go as ``--env NAME`` (pack reads the value from the environment; Kamal puts the
    value on the command line)."""
    pack = b.config["pack"]
    buildpacks = [*(pack.get("buildpacks") or []), "paketo-buildpacks/image-labels"]
    build: list[Word] = [
        "pack", "build", Val(b.app.repository), "--platform", Val(f"linux/{b.local_arches[0]}"),
        "--creation-time", "now", "--builder", Val(str(pack.get("builder"))),
        *[w for bp in buildpacks for w in ("--buildpack", Val(str(bp)))], *_tags(b, dirty),
        *(["--clear-cache"] if no_cache else []), "--env", Val(f"BP_IMAGE_LABELS=service={b.app.service}"),
        *_argumentize("--env", dict(b.config.get("args") or {})),
        *[w for s in b.config.get("secrets") or [] for w in ("--env", Val(str(s)))],
        "--path", Val(b.context),
    ]  # fmt: skip
    if output != "registry":
        return tuple(build)
    pushes = [
        w
        for image in (b.app.image, b.app.latest_image)
        for w in (AND, "docker", "push", Val(image))
    ]
    return (*build, *pushes)


def fallback_push(
    b: Builder, output: str, *, no_cache: bool = False, dirty: bool = False
) -> tuple[Cmd, ...] | None:
    """Without buildx: ``docker build`` then ``docker push``, the same image Kamal's buildx
    build makes with the docker driver. None when the config needs buildx."""
    if (
        b.kind != "local"
        or b.driver != "docker"
        or output not in OUTPUTS_WITHOUT_BUILDX
        or len(b.arches) > 1
    ):
        return None
    tags = [f"{n}-dirty" if dirty else n for n in (b.app.image, b.app.latest_image)]
    build: Cmd = ("docker", "build", *_platform(b.arches), *_tags(b, dirty), *build_options(b),
                  *(["--no-cache"] if no_cache else []), Val(b.context))  # fmt: skip
    return (build, *((("docker", "push", Val(t)) for t in tags) if output == "registry" else ()))


def inspect_builder(b: Builder) -> Cmd | None:
    """Succeeds when the builder exists (and for a remote builder, points at the remote)."""
    if b.kind == "pack":
        return ("pack", "builder", "inspect", Val(str(b.config["pack"].get("builder"))))
    if not b.uses_builder:
        return None
    if b.kind in ("remote", "hybrid"):
        context = f"{b.name}-context"
        return (
            "docker", "buildx", "inspect", Val(b.name), PIPE, "grep", "-q", Val(f"Endpoint:.*{context}"),
            AND, "docker", "context", "inspect", Val(context), "--format", Val("{{.Endpoints.docker.Host}}"),
            PIPE, "grep", "-xq", Val(b.remote or ""),
            OR, Raw("(echo no compatible builder && exit 1)"),
        )  # fmt: skip
    return ("docker", "buildx", "inspect", Val(b.name))


MISSING_BUILDER = re.compile(r"context not found|no builder|no compatible builder|does not exist")


def _driver_opt(b: Builder) -> list[Word]:
    return ["--driver-opt", "network=host"] if b.app.registry.local else []


def create(b: Builder) -> Cmd | None:
    kind, name = b.kind, b.name
    if kind == "pack" or not b.uses_builder:
        return None
    if kind == "cloud":
        # "cloud ORG/BUILDER": the driver, then the builder endpoint (two words, as Kamal's shell splits it)
        return ("docker", "buildx", "create", "--driver", *(Val(w) for w in b.driver.split()))
    if kind == "local":
        return (
            "docker",
            "buildx",
            "create",
            "--name",
            Val(name),
            Val(f"--driver={b.driver}"),
            *_driver_opt(b),
        )
    context = f"{name}-context"
    remote_context: Cmd = (
        "docker", "context", "create", Val(context), "--description", Val(f"{name} host"),
        "--docker", Val(f"host={b.remote}"),
    )  # fmt: skip
    if kind == "remote":
        return (
            *remote_context,
            SEMI,
            "docker",
            "buildx",
            "create",
            "--name",
            Val(name),
            *_driver_opt(b),
            Val(context),
        )
    return (
        "docker", "buildx", "create", *_platform(b.local_arches), "--name", Val(name),
        Val(f"--driver={b.driver}"), *_driver_opt(b), AND, *remote_context, AND,
        "docker", "buildx", "create", *_platform(b.remote_arches), "--append", "--name", Val(name),
        *_driver_opt(b), Val(context),
    )  # fmt: skip


def remove(b: Builder) -> Cmd | None:
    if b.kind == "pack" or not b.uses_builder:
        return None
    if b.kind in ("remote", "hybrid"):
        return (
            "docker",
            "context",
            "rm",
            Val(f"{b.name}-context"),
            SEMI,
            "docker",
            "buildx",
            "rm",
            Val(b.name),
        )
    return ("docker", "buildx", "rm", Val(b.name))


def info(b: Builder) -> Cmd:
    if b.kind == "pack":
        return ("pack", "builder", "inspect", Val(str(b.config["pack"].get("builder"))))
    joiner = SEMI if b.kind in ("remote", "hybrid") else AND
    return ("docker", "context", "ls", joiner, "docker", "buildx", "ls")


# The clean clone of HEAD (Kamal's commands/builder/clone.rb and configuration/builder.rb).


def clone_directory(tmpdir: str, service: str, pwd: str) -> str:
    """``<tmpdir>/kamal-clones/<service>-<13 hex of sha256(pwd)>``, shared with Kamal."""
    return f"{tmpdir.rstrip('/')}/kamal-clones/{service}-{hashlib.sha256(pwd.encode()).hexdigest()[:13]}"


def build_directory(clone_dir: str, git_root: str, pwd: str) -> str:
    """Where the project directory is inside the clone (Ruby's File.join of the parts)."""
    base = git_root.rstrip("/").rsplit("/", 1)[-1]
    relative = pwd.removeprefix(git_root)
    return f"{clone_dir}/{base}/{relative.lstrip('/')}"


def clone(clone_dir: str, git_root: str) -> Cmd:
    return ("git", "-C", Val(clone_dir), "clone", Val(git_root), "--recurse-submodules")


def clone_reset_steps(build_dir: str, git_root: str, revision: str) -> tuple[Cmd, ...]:
    def git(*words: Word) -> Cmd:
        return ("git", "-C", Val(build_dir), *words)

    return (
        git("remote", "set-url", "origin", Val(git_root)),
        git("fetch", "origin"),
        git("reset", "--hard", Val(revision)),
        git("clean", "-fdx"),
        git("submodule", "update", "--init"),
    )


def clone_status(build_dir: str) -> Cmd:
    return ("git", "-C", Val(build_dir), "status", "--porcelain")


def clone_revision(build_dir: str) -> Cmd:
    return ("git", "-C", Val(build_dir), "rev-parse", "HEAD")
