"""kamal-proxy: boot the container and deploy routes (Kamal's commands/proxy.rb, app/proxy)."""

from __future__ import annotations

from backstaff.planner.commands.base import Cmd, optionize
from backstaff.planner.model import App, ProxyRoute

CONTAINER = "kamal-proxy"
APPS_CONFIG = "/home/kamal-proxy/.apps-config"


def _flag(name: str, value: object) -> str:
    if value is True:
        return f"--{name}"
    if value is False:
        return f'--{name}="false"'
    return f'--{name}="{value}"'


def deploy_flags(app: App, route: ProxyRoute, tls_role: str | None) -> Cmd:
    """Every flag after ``--target``, in Kamal's order (internals §2.4)."""
    flags: list[str] = [_flag("host", host) for host in route.hosts]
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


def deploy(app: App, service: str, route: ProxyRoute, target: str, tls_role: str | None) -> Cmd:
    """``target`` is a container id, or a shell substitution finding it at run time."""
    return (
        "docker", "exec", CONTAINER, "kamal-proxy", "deploy", service,
        _flag("target", f"{target}:{route.app_port}"),
    ) + deploy_flags(app, route, tls_role)  # fmt: skip


def remove(service: str) -> Cmd:
    return ("docker", "exec", CONTAINER, "kamal-proxy", "remove", service)


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
    tokens: list[str] = []
    if run.publish:
        for ip in run.bind_ips or ("",):
            prefix = f"{ip}:" if ip else ""
            tokens += [
                "--publish",
                f"{prefix}{run.http_port}:80",
                "--publish",
                f"{prefix}{run.https_port}:443",
            ]
    tokens += ["--log-opt", f"max-size={run.log_max_size}"]
    if run.metrics_port:
        tokens.append(f"--expose={run.metrics_port}")
    tokens += optionize(run.options)
    tokens.append(run.image)
    command = ["kamal-proxy", "run"]
    if run.debug:
        command.append("--debug")
    if run.metrics_port:
        command += ["--metrics-port", f'"{run.metrics_port}"']
    return tuple(tokens + (command if len(command) > 2 else []))


RUN_PREFIX: Cmd = (
    "docker", "run", "--name", CONTAINER, "--network", "kamal", "--detach", "--restart",
    "unless-stopped", "--volume", "kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy",
    "--volume", "$PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config",
)  # fmt: skip


def boot(app: App) -> Cmd:
    """Kamal's ``proxy boot``: start the existing container, or run a new one."""
    if app.proxy_run.from_config:
        return ("docker", "container", "start", CONTAINER, "||") + RUN_PREFIX + run_args(app)
    return (
        "docker", "container", "start", CONTAINER, "||", "echo",
        '$(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m")',
        '$(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2")',
        '$(cat .kamal/proxy/run_command 2> /dev/null || echo "")', "|", "xargs",
    ) + RUN_PREFIX  # fmt: skip


def reboot(app: App) -> tuple[Cmd, ...]:
    """Kamal's ``proxy reboot``: stop, prune the old container, run with the current settings."""
    return (
        ("docker", "container", "stop", CONTAINER),
        ("docker", "container", "prune", "--force", "--filter",
         "label=org.opencontainers.image.title=kamal-proxy"),
        make_apps_config_directory(),
        RUN_PREFIX + run_args(app),
    )  # fmt: skip
