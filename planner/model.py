"""The desired state: every derived name (containers, labels, env files, proxy) in one place.

Builders and the diff read names from here and never recompute them, as Kamal's
configuration objects do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

Pairs = tuple[tuple[str, str], ...]
OptionValue = bool | str | tuple[bool | str, ...]
Options = tuple[tuple[str, OptionValue], ...]  # docker options: true = bare flag, tuple = repeated

DEFAULT_PROXY_IMAGE = "basecamp/kamal-proxy"
DEFAULT_PROXY_VERSION = "v0.9.2"
DEFAULT_LOG_REQUEST_HEADERS = ("Cache-Control", "Last-Modified", "User-Agent")


@dataclass(frozen=True)
class Env:
    """Clear values go on the command line; secrets only into the env file."""

    clear: Pairs = ()
    secrets: Pairs = ()  # (variable name, secret key in .kamal/secrets)


@dataclass(frozen=True)
class ProxyRoute:
    """What ``kamal-proxy deploy`` is told for one role or accessory (Kamal's defaults applied)."""

    hosts: tuple[str, ...] = ()
    app_port: int = 80
    ssl: bool = False
    custom_certificate: tuple[str, str] | None = None  # secret names (certificate, private key)
    ssl_redirect: bool | None = None
    forward_headers: bool | None = None
    response_timeout: int | None = None
    path_prefixes: tuple[str, ...] = ()
    strip_path_prefix: bool | None = None
    healthcheck_path: str | None = None
    healthcheck_interval: int | None = None
    healthcheck_timeout: int | None = None
    buffer_requests: bool = True
    buffer_responses: bool = True
    max_request_body: int | None = None
    max_response_body: int | None = None
    buffer_memory: int | None = None
    log_request_headers: tuple[str, ...] = DEFAULT_LOG_REQUEST_HEADERS
    log_response_headers: tuple[str, ...] = ()
    deploy_timeout: int = 30
    drain_timeout: int = 30


@dataclass(frozen=True)
class ProxyRun:
    """How the kamal-proxy container itself runs on a host."""

    image: str = f"{DEFAULT_PROXY_IMAGE}:{DEFAULT_PROXY_VERSION}"
    http_port: int = 80
    https_port: int = 443
    publish: bool = True
    bind_ips: tuple[str, ...] = ()
    metrics_port: int | None = None
    debug: bool = False
    log_max_size: str = "10m"
    options: Options = ()
    from_config: bool = False  # proxy.run given: Kamal builds the command instead of boot files


@dataclass(frozen=True)
class Role:
    """A role as deployed: its hosts, container name prefix, command, options and proxy."""

    name: str
    hosts: tuple[str, ...]
    host_tags: tuple[tuple[str, tuple[str, ...]], ...]
    container_prefix: str  # <service>-<role>[-<destination>], also the kamal-proxy service name
    cmd: str | None
    options: Options
    labels: Pairs
    env: Env
    env_file: str
    logging: Pairs  # docker logging arguments, in order
    proxy: ProxyRoute | None
    asset_path: str | None
    primary: bool

    @cached_property
    def host_set(self) -> frozenset[str]:
        return frozenset(self.hosts)

    def container_name(self, version: str) -> str:
        return f"{self.container_prefix}-{version}"

    def tags_of(self, host: str) -> tuple[str, ...]:
        for tagged, tags in self.host_tags:
            if tagged == host:
                return tags
        return ()


@dataclass(frozen=True)
class Mount:
    """A volume, file or directory mounted into a container (``--volume local:remote``)."""

    local: str
    remote: str
    mode: str | None = None
    owner: str | None = None
    options: str | None = None


@dataclass(frozen=True)
class Accessory:
    """An accessory as deployed: one container per host, named ``<service>-<name>``."""

    name: str
    service_name: str
    image: str
    hosts: tuple[str, ...]
    cmd: str | None
    port: str | None
    labels: Pairs
    options: Options
    env: Env
    env_file: str
    files: tuple[Mount, ...]
    directories: tuple[Mount, ...]
    volumes: tuple[str, ...]
    network: str
    proxy: ProxyRoute | None
    registry: Registry | None  # its own ``registry:`` (Kamal logs in to it before a boot)

    @cached_property
    def host_set(self) -> frozenset[str]:
        return frozenset(self.hosts)


@dataclass(frozen=True)
class Registry:
    """Where images are pulled from; the password's value never enters the model."""

    server: str | None
    username: str | None  # a plain value, or None when it comes from a secret
    username_secret: str | None
    password_secret: str | None
    password_plain_set: bool  # a literal password in deploy.yml (never kept in the model)
    local: bool
    context: str = "registry"  # its config path: where a literal password is read at run time


@dataclass(frozen=True)
class SshSettings:
    """How the hosts are reached: deploy.yml's ``ssh`` and ``sshkit`` sections."""

    user: str = "root"
    port: int = 22
    proxy: str | None = None
    proxy_command: str | None = None
    keys: tuple[str, ...] = ()
    key_data: tuple[str, ...] = ()
    keys_only: bool | None = None  # None: not set (an ssh config's IdentitiesOnly applies)
    config: tuple[str, ...] | bool = True
    log_level: str = "fatal"
    max_concurrent_starts: int = 30
    pool_idle_timeout: int = 900
    dns_retries: int = 3


@dataclass(frozen=True)
class Boot:
    """How app containers boot across hosts: Kamal's ``boot`` section."""

    limit: str | None = None
    wait: int | None = None
    parallel_roles: bool = False


@dataclass(frozen=True)
class App:
    """The whole desired deployment for one version."""

    service: str
    destination: str | None
    version: str
    repository: str  # [registry/]image
    roles: tuple[Role, ...]  # primary first, then by name
    accessories: tuple[Accessory, ...]
    registry: Registry
    ssh: SshSettings
    boot: Boot
    proxy_run: ProxyRun
    volumes: tuple[str, ...]
    logging: Pairs = (("--log-opt", "max-size=10m"),)  # root logging; roles merge their own
    retain_containers: int = 5
    readiness_delay: int = 7
    deploy_timeout: int = 30
    drain_timeout: int = 30
    hooks_path: str = ".kamal/hooks"
    secrets_path: str = ".kamal/secrets"
    error_pages_path: str | None = None
    aliases: Pairs = ()
    root_env: Env = field(default_factory=Env)
    tag_envs: tuple[tuple[str, Env], ...] = ()  # env.tags: extra env for hosts with that tag

    @property
    def service_with_destination(self) -> str:
        return f"{self.service}-{self.destination}" if self.destination else self.service

    @property
    def image(self) -> str:
        return f"{self.repository}:{self.version}"

    @property
    def latest_image(self) -> str:
        suffix = f"-{self.destination}" if self.destination else ""
        return f"{self.repository}:latest{suffix}"

    @property
    def app_directory(self) -> str:
        return f".kamal/apps/{self.service_with_destination}"

    @property
    def lock_directory(self) -> str:
        return f".kamal/lock-{self.service_with_destination}"

    @property
    def audit_log(self) -> str:
        return f".kamal/{self.service_with_destination}-audit.log"

    @property
    def primary_role(self) -> Role | None:
        return next((r for r in self.roles if r.primary), None)

    @property
    def primary_host(self) -> str | None:
        role = self.primary_role
        if role and role.hosts:
            return role.hosts[0]
        return self.all_hosts[0] if self.all_hosts else None

    @cached_property
    def all_hosts(self) -> tuple[str, ...]:
        """Role hosts (roles sorted by name), then accessory hosts, without repeats (Kamal)."""
        ordered: list[str] = []
        for role in sorted(self.roles, key=lambda r: r.name):
            ordered += role.hosts
        for accessory in self.accessories:
            ordered += accessory.hosts
        return tuple(dict.fromkeys(ordered))

    @cached_property
    def proxy_hosts(self) -> tuple[str, ...]:
        hosts: list[str] = []
        for role in self.roles:
            if role.proxy:
                hosts += role.hosts
        for accessory in self.accessories:
            if accessory.proxy:
                hosts += accessory.hosts
        return tuple(dict.fromkeys(hosts))

    @cached_property
    def host_set(self) -> frozenset[str]:
        return frozenset(self.all_hosts)

    @cached_property
    def proxy_host_set(self) -> frozenset[str]:
        return frozenset(self.proxy_hosts)

    def labels_for(self, role: Role) -> Pairs:
        return (
            ("service", self.service),
            ("role", role.name),
            ("destination", self.destination or ""),
        ) + role.labels

    def env_for(self, role: Role, host: str) -> Env:
        """Root env, then role env, then the host's tag env (later clear values win)."""
        return role.env if not role.tags_of(host) else _with_tags(role.env, self, role, host)


def _with_tags(env: Env, app: App, role: Role, host: str) -> Env:
    clear = dict(env.clear)
    secrets = dict(env.secrets)
    tag_envs = dict(app.tag_envs)
    for tag in role.tags_of(host):
        tag_env = tag_envs.get(tag)
        if tag_env:
            clear.update(tag_env.clear)
            secrets.update(tag_env.secrets)
    return Env(tuple(clear.items()), tuple(secrets.items()))
