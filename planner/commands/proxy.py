"""kamal-proxy: boot the container and deploy routes (Kamal's commands/proxy.rb, app/proxy)."""

from __future__ import annotations

from dataclasses import dataclass

from backstaff.planner.commands import logs as log_words
from backstaff.planner.commands.base import Cmd, optionize
from backstaff.planner.commands.words import (
    AND,
    OR,
    PIPE,
    PWD,
    SEMI,
    Cat,
    Raw,
    Sub,
    Val,
    Word,
)
from backstaff.planner.model import App, ProxyRoute

CONTAINER = "kamal-proxy"
APPS_CONFIG = "/home/kamal-proxy/.apps-config"


def _flag(name: str, value: object) -> Word:
    """``--name=value`` as one word (Kamal writes ``--name="value"``: the same argument)."""
    if value is True:
        return f"--{name}"
    if value is False:
        return f"--{name}=false"
    return Val(f"--{name}={value}")


def deploy_flags(app: App, route: ProxyRoute, tls_role: str | None) -> Cmd:
    """Every flag after ``--target``, in Kamal's order (internals §2.4)."""
    flags: list[Word] = [_flag("host", host) for host in route.hosts]
    if route.ssl:
        flags.append("--tls")
    if route.custom_certificate:
        base = f"{APPS_CONFIG}/{app.service_with_destination}/tls" + (
            f"/{tls_role}" if tls_role else ""
        )
        flags += [_flag("tls-certificate-path", f"{base}/cert.pem"),
                  _flag("tls-private-key-path", f"{base}/key.pem")]  # fmt: skip
    flags += [_flag("deploy-timeout", f"{route.deploy_timeout}s"),
              _flag("drain-timeout", f"{route.drain_timeout}s")]  # fmt: skip
    optional = [
        ("health-check-interval", route.healthcheck_interval, "s"),
        ("health-check-timeout", route.healthcheck_timeout, "s"),
        ("health-check-path", route.healthcheck_path, ""),
        ("target-timeout", route.response_timeout, "s"),
    ]
    flags += [_flag(name, f"{value}{unit}") for name, value, unit in optional if value is not None]
    flags += [_flag("buffer-requests", route.buffer_requests),
              _flag("buffer-responses", route.buffer_responses)]  # fmt: skip
    for name, value in (
        ("buffer-memory", route.buffer_memory),
        ("max-request-body", route.max_request_body),
        ("max-response-body", route.max_response_body),
    ):
        if value is not None:
            flags.append(_flag(name, value))
    flags += [_flag("path-prefix", prefix) for prefix in route.path_prefixes]
    for name, value in (
        ("strip-path-prefix", route.strip_path_prefix),
        ("forward-headers", route.forward_headers),
        ("tls-redirect", route.ssl_redirect),
    ):
        if value is not None:
            flags.append(_flag(name, value))
    flags += [_flag("log-request-header", h) for h in route.log_request_headers]
    flags += [_flag("log-response-header", h) for h in route.log_response_headers]
    if app.error_pages_path:
        pages = f"{APPS_CONFIG}/{app.service_with_destination}/error_pages/{app.version}"
        flags.append(_flag("error-pages", pages))
    return tuple(flags)


def deploy(
    app: App, service: str, route: ProxyRoute, target: Cmd | Raw | str, tls_role: str | None
) -> Cmd:
    """``target`` is a container id, the command that finds it at run time, or the shell
    variable an earlier command of the same batch kept it in."""
    found: Word = (
        Sub(target) if isinstance(target, tuple) else target if isinstance(target, Raw)
        else Val(target)
    )  # fmt: skip
    return (
        "docker", "exec", CONTAINER, "kamal-proxy", "deploy", Val(service),
        Cat(("--target=", found, Val(f":{route.app_port}"))),
    ) + deploy_flags(app, route, tls_role)  # fmt: skip


def remove(service: str) -> Cmd:
    return ("docker", "exec", CONTAINER, "kamal-proxy", "remove", Val(service))


def app_directory(app: App) -> str:
    """The app's directory under the apps-config one (host side; relative to the home)."""
    return f".kamal/proxy/apps-config/{app.service_with_destination}"


def tls_directory(app: App, tls_role: str | None, container: bool = False) -> str:
    """Where a role's (an accessory's: ``tls_role`` None) custom certificate lives."""
    base = f"{APPS_CONFIG}/{app.service_with_destination}" if container else app_directory(app)
    return f"{base}/tls" + (f"/{tls_role}" if tls_role else "")


def error_pages_directory(app: App) -> str:
    return f"{app_directory(app)}/error_pages"


def make_directory(path: str) -> Cmd:
    return ("mkdir", "-p", Val(path))


def key_readable_by_proxy(app: App, tls_role: str | None) -> Cmd:
    """The private key (uploaded 0640) given the group kamal-proxy runs as: readable by the
    proxy, not by every user of the host (Kamal uploads it 0644). The owner stays the SSH
    user, so a later upload by Kamal or backstaff still overwrites it."""
    gid: Cmd = ("docker", "exec", CONTAINER, "id", "-g")
    key = f"{tls_directory(app, tls_role, container=True)}/key.pem"
    return ("docker", "exec", "--user", "root", CONTAINER, "chgrp", Sub(gid), Val(key))


def clean_up_error_pages(app: App) -> Cmd:
    """Every other version's error pages removed (Kamal's ``clean_up_error_pages``)."""
    return ("find", Val(error_pages_directory(app)), "-mindepth", "1", "-maxdepth", "1",
            Raw("!"), "-name", Val(app.version), "-exec", "rm", "-rf", Val("{}"), Raw("+"))  # fmt: skip


def make_apps_config_directory() -> Cmd:
    return ("mkdir", "-p", ".kamal/proxy/apps-config")


def run_args(app: App) -> Cmd:
    """What follows ``docker run`` for kamal-proxy: Kamal's boot files unless ``proxy.run``."""
    run = app.proxy_run
    if not run.from_config:
        return (
            "--publish",
            "80:80",
            "--publish",
            "443:443",
            "--log-opt",
            "max-size=10m",
            run.image,
        )
    tokens: list[Word] = []
    if run.publish:
        for ip in run.bind_ips or ("",):
            bracketed = f"[{ip}]" if ":" in ip and not ip.startswith("[") else ip  # IPv6
            prefix = f"{bracketed}:" if ip else ""
            tokens += [
                "--publish",
                Val(f"{prefix}{run.http_port}:80"),
                "--publish",
                Val(f"{prefix}{run.https_port}:443"),
            ]
    tokens += ["--log-opt", Val(f"max-size={run.log_max_size}")]
    if run.metrics_port:
        tokens.append(Val(f"--expose={run.metrics_port}"))
    tokens += optionize(run.options)
    tokens += [Val(run.image), "kamal-proxy", "run"]  # Kamal names the command, options or not
    if run.debug:
        tokens.append("--debug")
    if run.metrics_port:
        tokens += ["--metrics-port", Val(str(run.metrics_port))]
    return tuple(tokens)


RUN_PREFIX: Cmd = (
    "docker", "run", "--name", CONTAINER, "--network", "kamal", "--detach", "--restart",
    "unless-stopped", "--volume", "kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy",
    "--volume", Cat((PWD, "/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config")),
)  # fmt: skip
# Kamal's boot from the files `proxy boot_config set` wrote (their words split by the shell, as
# Kamal's are); the files hold what backstaff or Kamal wrote from validated settings.
BOOT_FROM_FILES: Cmd = (
    "echo",
    Raw('$(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m")'),
    Raw('$(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2")'),
    Raw('$(cat .kamal/proxy/run_command 2> /dev/null || echo "")'),
    PIPE, "xargs",
)  # fmt: skip


def boot(app: App) -> Cmd:
    """Kamal's ``proxy boot``: start the existing container, or run a new one."""
    if app.proxy_run.from_config:
        return ("docker", "container", "start", CONTAINER, OR) + RUN_PREFIX + run_args(app)
    return ("docker", "container", "start", CONTAINER, OR) + BOOT_FROM_FILES + RUN_PREFIX


def reboot(app: App) -> tuple[Cmd, ...]:
    """Kamal's ``proxy reboot``: stop, prune the old container, run with the current settings
    (``proxy.run``, or the boot files ``proxy boot_config set`` wrote)."""
    return (
        ("docker", "container", "stop", CONTAINER),
        ("docker", "container", "prune", "--force", "--filter",
         "label=org.opencontainers.image.title=kamal-proxy"),
        make_apps_config_directory(),
        run(app),
    )  # fmt: skip


def run(app: App) -> Cmd:
    """Kamal's proxy ``run``: from ``proxy.run``, else from the boot files (``boot_config``)."""
    if app.proxy_run.from_config:
        return RUN_PREFIX + run_args(app)
    return BOOT_FROM_FILES + RUN_PREFIX


BOOT_FILES = ("options", "image", "image_version", "run_command")


TRAEFIK_LABEL = "label=org.opencontainers.image.title=Traefik"
PROXY_LABEL = "label=org.opencontainers.image.title=kamal-proxy"


def cleanup_traefik() -> Cmd:
    """Kamal 1's Traefik stopped, its containers and images removed (Kamal's ``upgrade``)."""
    return ("docker", "container", "stop", "traefik", SEMI,
            "docker", "container", "prune", "--force", "--filter", TRAEFIK_LABEL, AND,
            "docker", "image", "prune", "--all", "--force", "--filter", TRAEFIK_LABEL)  # fmt: skip


def remove_container() -> Cmd:
    return ("docker", "container", "prune", "--force", "--filter", PROXY_LABEL)


def remove_image() -> Cmd:
    return ("docker", "image", "prune", "--all", "--force", "--filter", PROXY_LABEL)


def start() -> Cmd:
    return ("docker", "container", "start", CONTAINER)


def stop() -> Cmd:
    return ("docker", "container", "stop", CONTAINER)


def details() -> tuple[Cmd, ...]:
    return (("docker", "ps", "--filter", Val(f"name=^{CONTAINER}$")),
            ("docker", "exec", CONTAINER, "kamal-proxy", "list"))  # fmt: skip


def logs(
    lines: int | None = None, *, since: str | None = None, grep: str | None = None,
    timestamps: bool = True, follow: bool = False,
) -> Cmd:  # fmt: skip
    """Kamal's ``proxy logs`` (see ``logs.container_logs``)."""
    return log_words.container_logs(CONTAINER, lines, since, grep, None, timestamps, follow)


REMOVE_GUARD = Raw(
    'test "$(ls .kamal/apps 2>/dev/null | wc -l)" -eq 0 || (echo "Not removing the proxy, as'
    ' other apps are installed, ignore this check with backstaff proxy remove --force" && exit 1)'
)


def remove_all(force: bool) -> tuple[Cmd, ...]:
    """``proxy remove``: the container, its image and the boot files (unless other apps are
    installed on the host, or ``force``)."""
    label = "label=org.opencontainers.image.title=kamal-proxy"
    guard: tuple[Cmd, ...] = () if force else ((REMOVE_GUARD,),)
    return guard + (
        stop() + (OR, "true"),
        ("docker", "container", "prune", "--force", "--filter", label),
        ("docker", "image", "prune", "--all", "--force", "--filter", label),
        ("rm", "-rf", ".kamal/proxy"),
    )


DEFAULT_BOOT_OPTIONS = "--publish 80:80 --publish 443:443 --log-opt max-size=10m"
DEFAULT_IMAGE = "basecamp/kamal-proxy"


@dataclass(frozen=True)
class BootConfig:
    """What ``proxy boot_config set`` was given (Kamal's options and defaults)."""

    publish: bool = True
    publish_host_ips: tuple[str, ...] = ()
    http_port: int = 80
    https_port: int = 443
    log_max_size: str = "10m"
    registry: str | None = None
    repository: str | None = None
    image_version: str | None = None
    metrics_port: int | None = None
    debug: bool = False
    docker_options: tuple[str, ...] = ()


def boot_files(config: BootConfig) -> dict[str, str | None]:
    """Each boot file's content as Kamal 2.11 uploads it (no trailing newline), or None where
    the value is the default and Kamal removes the file."""
    words: list[str] = []
    if config.publish:
        for ip in config.publish_host_ips or ("",):
            bracketed = f"[{ip}]" if ":" in ip and not ip.startswith("[") else ip  # IPv6
            prefix = f"{bracketed}:" if ip else ""
            words += ["--publish", f"{prefix}{config.http_port}:80",
                      "--publish", f"{prefix}{config.https_port}:443"]  # fmt: skip
    if config.log_max_size:
        words += ["--log-opt", f"max-size={config.log_max_size}"]
    if config.metrics_port:
        words.append(f"--expose={config.metrics_port}")
    words += [f"--{option}" for option in config.docker_options]
    options = " ".join(words)
    image = "/".join(
        p for p in (config.registry, config.repository or "basecamp", "kamal-proxy") if p
    )
    run = (["--debug"] if config.debug else []) + (
        ["--metrics-port", f'"{config.metrics_port}"'] if config.metrics_port else []
    )  # Kamal's optionize: the value dumped as a Ruby string, quotes and all
    return {
        "options": None if options == DEFAULT_BOOT_OPTIONS else options,
        "image": None if image == DEFAULT_IMAGE else image,
        "image_version": config.image_version or None,
        "run_command": " ".join(["kamal-proxy", "run", *run]) if run else None,
    }


def write_boot_files(files: dict[str, str | None]) -> tuple[Cmd, ...]:
    """``proxy boot_config set``: each file written with exactly its content, or removed. The
    words in them are split again at boot (as in Kamal), so the CLI takes only plain words."""
    commands: list[Cmd] = [("mkdir", "-p", ".kamal/proxy")]
    for name in BOOT_FILES:
        content = files[name]
        path = f".kamal/proxy/{name}"
        if content is None:
            commands.append(("rm", "-f", path))
        else:
            commands.append(("printf", "%s", Val(content), Raw(">"), path))
    return tuple(commands)


SHOW_BOOT_FILES = Raw(
    "for f in options image image_version run_command; do"
    ' [ -f .kamal/proxy/$f ] && echo "$f: $(cat .kamal/proxy/$f)"; done; true'
)


def reset_boot_files() -> Cmd:
    return ("rm", "-f", *(f".kamal/proxy/{f}" for f in BOOT_FILES))
