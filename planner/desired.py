"""Compile a validated config and a version into the desired ``App`` (Kamal's defaults applied)."""

from __future__ import annotations

from typing import Any

from backstaff.planner.model import (
    DEFAULT_LOG_REQUEST_HEADERS,
    DEFAULT_PROXY_IMAGE,
    DEFAULT_PROXY_VERSION,
    Accessory,
    App,
    Boot,
    Env,
    Mount,
    Options,
    OptionValue,
    Pairs,
    ProxyRoute,
    ProxyRun,
    Registry,
    Role,
    SshSettings,
)
from backstaff.schemas import topology
from backstaff.schemas.load import LoadedConfig
from backstaff.schemas.merge import deep_merge
from backstaff.schemas.proxy import custom_certificate, ssl_on
from backstaff.schemas.registry import is_local
from backstaff.schemas.ruby_text import to_s


def build_desired(loaded: LoadedConfig, version: str) -> App:
    config, destination = loaded.data, loaded.destination
    service = str(config["service"])
    suffix = f"-{destination}" if destination else ""
    app_dir = f".kamal/apps/{service}{suffix}"
    registry = _registry(config.get("registry") or {})
    root_env = build_env(config.get("env") or {})
    deploy_timeout = int(config.get("deploy_timeout", 30))
    drain_timeout = int(config.get("drain_timeout", 30))
    timeouts = {"deploy_timeout": deploy_timeout, "drain_timeout": drain_timeout}
    roles = _roles(config, service, suffix, app_dir, root_env, timeouts)
    role_hosts = {role.name: role for role in roles}
    return App(
        service=service,
        destination=destination,
        version=version,
        repository=_repository(config, registry),
        roles=roles,
        accessories=tuple(
            _accessory(name, spec, service, app_dir, config, role_hosts, timeouts)
            for name, spec in (config.get("accessories") or {}).items()
        ),
        registry=registry,
        ssh=_ssh(config.get("ssh") or {}, config.get("sshkit") or {}),
        boot=_boot(config.get("boot") or {}),
        proxy_run=_proxy_run((config.get("proxy") or {}).get("run")),
        volumes=tuple(str(v) for v in config.get("volumes") or []),
        logging=logging_args(config.get("logging") or {}),
        retain_containers=int(config.get("retain_containers", 5)),
        readiness_delay=int(config.get("readiness_delay", 7)),
        deploy_timeout=deploy_timeout,
        drain_timeout=drain_timeout,
        hooks_path=str(config.get("hooks_path") or ".kamal/hooks"),
        secrets_path=str(config.get("secrets_path") or ".kamal/secrets"),
        error_pages_path=_optional_str(config.get("error_pages_path")),
        aliases=tuple((str(k), str(v)) for k, v in (config.get("aliases") or {}).items()),
        root_env=root_env,
        tag_envs=tuple(
            (str(tag), build_env(env or {}))
            for tag, env in ((config.get("env") or {}).get("tags") or {}).items()
        ),
    )


def build_env(spec: dict[str, Any], base: Env | None = None) -> Env:
    """A flat hash is all clear; ``clear``/``secret`` split them. ``NAME:KEY`` aliases a secret."""
    base = base or Env()
    structured = any(key in spec for key in ("clear", "secret", "tags"))
    clear_spec = spec.get("clear") or {} if structured else spec
    secret_spec = spec.get("secret") or [] if structured else []
    clear = dict(base.clear)
    clear.update({to_s(k): to_s(v) for k, v in clear_spec.items()})
    secrets = dict(base.secrets)
    for entry in secret_spec:
        name, _, key = str(entry).partition(":")
        secrets[name] = key or name
    return Env(tuple(clear.items()), tuple(secrets.items()))


def _roles(
    config: dict[str, Any],
    service: str,
    suffix: str,
    app_dir: str,
    root_env: Env,
    timeouts: dict[str, int],
) -> tuple[Role, ...]:
    servers = config.get("servers") or {}
    primary = topology.primary_role_name(config)
    hosts_by_role = topology.roles(servers)
    proxies = topology.role_proxies(config)
    roles = []
    for name in topology.ordered_role_names(list(hosts_by_role), primary):
        spec = servers.get(name) if isinstance(servers, dict) else None
        spec = spec if isinstance(spec, dict) else {}
        settings = proxies[name]
        proxy = build_proxy_route(settings, **timeouts) if settings is not None else None
        entries = hosts_by_role[name]
        roles.append(
            Role(
                name=name,
                hosts=tuple(dict.fromkeys(host for host, _ in entries)),
                host_tags=tuple((host, tags) for host, tags in entries if tags),
                container_prefix=f"{service}-{name}{suffix}",
                cmd=_optional_str(spec.get("cmd")),
                options=_options(spec.get("options")),
                labels=tuple(
                    (to_s(k), to_s(v))
                    for k, v in {
                        **(config.get("labels") or {}),
                        **(spec.get("labels") or {}),
                    }.items()
                ),
                env=build_env(spec.get("env") or {}, base=root_env),
                env_file=f"{app_dir}/env/roles/{name}.env",
                logging=logging_args(
                    deep_merge(config.get("logging") or {}, spec.get("logging") or {})
                ),
                proxy=proxy,
                asset_path=_optional_str(spec.get("asset_path") or config.get("asset_path")),
                primary=name == primary,
            )
        )
    return tuple(roles)


def build_proxy_route(spec: dict[str, Any], deploy_timeout: int, drain_timeout: int) -> ProxyRoute:
    ssl = spec.get("ssl")
    hosts = spec.get("hosts") or [h for h in str(spec.get("host") or "").split(",") if h]
    prefixes = spec.get("path_prefixes") or [
        p for p in str(spec.get("path_prefix") or "").split(",") if p
    ]
    health = spec.get("healthcheck") or {}
    buffering = spec.get("buffering") or {}
    logging = spec.get("logging") or {}
    return ProxyRoute(
        hosts=tuple(str(h).strip() for h in hosts),
        app_port=int(spec.get("app_port", 80)),
        ssl=ssl_on(ssl),
        custom_certificate=custom_certificate(ssl),
        ssl_redirect=spec.get("ssl_redirect"),
        forward_headers=spec.get("forward_headers"),
        response_timeout=spec.get("response_timeout"),
        path_prefixes=tuple(str(p).strip() for p in prefixes),
        strip_path_prefix=spec.get("strip_path_prefix"),
        healthcheck_path=_optional_str(health.get("path")),
        healthcheck_interval=health.get("interval"),
        healthcheck_timeout=health.get("timeout"),
        buffer_requests=buffering.get("requests", True),
        buffer_responses=buffering.get("responses", True),
        max_request_body=buffering.get("max_request_body"),
        max_response_body=buffering.get("max_response_body"),
        buffer_memory=buffering.get("memory"),
        log_request_headers=tuple(
            str(h) for h in logging.get("request_headers", DEFAULT_LOG_REQUEST_HEADERS)
        ),
        log_response_headers=tuple(str(h) for h in logging.get("response_headers", ())),
        deploy_timeout=deploy_timeout,
        drain_timeout=drain_timeout,
    )


def logging_args(spec: dict[str, Any]) -> Pairs:
    """Kamal: ``--log-opt max-size=10m`` unless a driver or options are configured (the
    values as docker gets them; ``kamal config`` shows them quoted, see config_view)."""
    if not spec.get("driver") and not spec.get("options"):
        return (("--log-opt", "max-size=10m"),)
    args: list[tuple[str, str]] = []
    if spec.get("driver"):
        args.append(("--log-driver", str(spec["driver"])))
    for key, value in (spec.get("options") or {}).items():
        args.append(("--log-opt", f"{key}={value}"))
    return tuple(args)


def _accessory(
    name: str,
    spec: dict[str, Any],
    service: str,
    app_dir: str,
    config: dict[str, Any],
    roles: dict[str, Role],
    timeouts: dict[str, int],
) -> Accessory:
    registry = (
        _registry(spec["registry"], f"accessories/{name}/registry")
        if spec.get("registry")
        else None
    )
    server = registry.server if registry else None
    image = str(spec["image"])
    return Accessory(
        name=str(name),
        service_name=str(spec.get("service") or f"{service}-{name}"),
        image=f"{server}/{image}" if server else image,
        hosts=_accessory_hosts(spec, roles),
        cmd=_optional_str(spec.get("cmd")),
        port=_port(spec.get("port")),
        labels=_pairs(spec.get("labels")),
        options=_options(spec.get("options")),
        env=build_env(spec.get("env") or {}),
        env_file=f"{app_dir}/env/accessories/{name}.env",
        files=tuple(_mount(m) for m in spec.get("files") or []),
        directories=tuple(_mount(m) for m in spec.get("directories") or []),
        volumes=tuple(str(v) for v in spec.get("volumes") or []),
        network=str(spec.get("network") or "kamal"),
        proxy=build_proxy_route(spec["proxy"], **timeouts) if spec.get("proxy") else None,
        registry=registry,
    )


def _accessory_hosts(spec: dict[str, Any], roles: dict[str, Role]) -> tuple[str, ...]:
    if "host" in spec:
        return (str(spec["host"]),)
    if "hosts" in spec:
        return tuple(str(h) for h in spec["hosts"])
    role_names = [spec["role"]] if "role" in spec else spec.get("roles") or []
    if role_names:
        return tuple(dict.fromkeys(h for r in role_names for h in roles[str(r)].hosts))
    tags = {str(t) for t in ([spec["tag"]] if "tag" in spec else spec.get("tags") or [])}
    hosts = [
        host
        for role in roles.values()
        for host, host_tags in role.host_tags
        if tags & set(host_tags)
    ]
    return tuple(dict.fromkeys(hosts))


def _mount(entry: Any) -> Mount:
    if isinstance(entry, dict):
        return Mount(
            local=str(entry["local"]),
            remote=str(entry["remote"]),
            mode=_optional_str(entry.get("mode")),
            owner=_optional_str(entry.get("owner")),
            options=_optional_str(entry.get("options")),
        )
    local, remote, *options = str(entry).split(":", 2)
    return Mount(local=local, remote=remote, options=options[0] if options else None)


def _port(value: Any) -> str | None:
    if value is None:
        return None
    port = str(value)
    return port if ":" in port else f"{port}:{port}"


def _registry(spec: dict[str, Any], context: str = "registry") -> Registry:
    username, password = spec.get("username"), spec.get("password")
    return Registry(
        server=_optional_str(spec.get("server")),
        username=None if isinstance(username, list) else _optional_str(username),
        username_secret=str(username[0]) if isinstance(username, list) else None,
        password_secret=str(password[0]) if isinstance(password, list) else None,
        password_plain_set=password is not None and not isinstance(password, list),
        local=is_local(spec),
        context=context,
    )


def _repository(config: dict[str, Any], registry: Registry) -> str:
    image = str(config["image"])
    return f"{registry.server}/{image}" if registry.server else image


def _ssh(ssh: dict[str, Any], sshkit: dict[str, Any]) -> SshSettings:
    config = ssh.get("config", True)
    return SshSettings(
        user=str(ssh.get("user") or "root"),
        port=int(ssh.get("port") or 22),
        proxy=_optional_str(ssh.get("proxy")),
        proxy_command=_optional_str(ssh.get("proxy_command")),
        keys=tuple(str(k) for k in ssh.get("keys") or []),
        key_data=tuple(str(k) for k in ssh.get("key_data") or []),
        keys_only=None if ssh.get("keys_only") is None else bool(ssh["keys_only"]),
        config=config
        if isinstance(config, bool)
        else tuple([config] if isinstance(config, str) else config),
        log_level=str(ssh.get("log_level") or "fatal"),
        max_concurrent_starts=int(sshkit.get("max_concurrent_starts", 30)),
        pool_idle_timeout=int(sshkit.get("pool_idle_timeout", 900)),
        dns_retries=int(sshkit.get("dns_retries", 3)),
    )


def _boot(spec: dict[str, Any]) -> Boot:
    limit = spec.get("limit")
    return Boot(
        limit=None if limit is None else str(limit),
        wait=spec.get("wait"),
        parallel_roles=bool(spec.get("parallel_roles", False)),
    )


def _proxy_run(spec: dict[str, Any] | None) -> ProxyRun:
    if not spec:
        return ProxyRun()
    repository = str(spec.get("repository") or DEFAULT_PROXY_IMAGE)
    if spec.get("registry"):
        repository = f"{spec['registry']}/{repository}"
    return ProxyRun(
        image=f"{repository}:{spec.get('version') or DEFAULT_PROXY_VERSION}",
        http_port=int(spec.get("http_port", 80)),
        https_port=int(spec.get("https_port", 443)),
        publish=bool(spec.get("publish", True)),
        bind_ips=tuple(str(ip) for ip in spec.get("bind_ips") or []),
        metrics_port=spec.get("metrics_port"),
        debug=bool(spec.get("debug", False)),
        log_max_size=str(spec.get("log_max_size") or "10m"),
        options=_options(spec.get("options")),
        from_config=True,
    )


def _options(spec: Any) -> Options:
    return tuple((to_s(k), _option_value(v)) for k, v in (spec or {}).items())


def _option_value(value: Any) -> OptionValue:
    """As Kamal's ``optionize`` makes docker options: a list repeats the flag, a hash gives a
    flag for each of its pairs (the pair's Ruby text), ``true`` is a bare flag; so is a null
    (``init:``), whose empty word Kamal's command line loses. An empty string stays one
    empty word: Kamal loses it too, and docker then takes the next option for its value."""
    if isinstance(value, (list, dict)):
        items = value if isinstance(value, list) else [[k, v] for k, v in value.items()]
        return tuple(_flag_value(item) for item in items)
    return _flag_value(value)


def _flag_value(value: Any) -> bool | str:
    return True if value is True or value is None else to_s(value)


def _pairs(spec: Any) -> Pairs:
    return tuple((to_s(k), to_s(v)) for k, v in (spec or {}).items())


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
