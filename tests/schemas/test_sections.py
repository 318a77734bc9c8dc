"""Each section of deploy.yml: valid settings pass, each mistake gives Kamal's message."""

from __future__ import annotations

import pytest

from tests.schemas.helpers import BASE, errors_for

VALID = {
    "servers list with tags": "servers: [1.1.1.1, {1.1.1.2: canary}, {1.1.1.3: [a, b]}]",
    "roles": "servers: {web: {hosts: [1.1.1.1], cmd: bin/web, labels: {a: b}}, jobs: [1.1.1.2]}",
    "role proxy false": "servers: {web: {hosts: [1.1.1.1], proxy: false}}",
    "role logging": "servers: {web: {hosts: [1.1.1.1], logging: {driver: journald}}}",
    "env flat": "env: {A: 1, B: true, C: text}",
    "env structured": "env: {clear: {A: b}, secret: [X, 'Y:Z'], tags: {t: {clear: {C: d}}}}",
    "registry server": "registry: {server: ghcr.io, username: [GH_USER], password: pw}",
    "builder arches": "builder: {arch: [amd64, arm64], cache: {type: gha}}",
    "builder cache without type": "builder: {arch: amd64, cache: {options: --no-cache}}",
    "builder empty cache": "builder: {arch: amd64, cache: {}}",
    "builder pack": "builder: {arch: amd64, pack: {builder: heroku/builder:24, buildpacks: [a]}}",
    "builder remote only": "builder: {arch: arm64, remote: 'ssh://b', local: false}",
    "accessory tag": "servers: [{1.1.1.1: db}]\naccessories: {db: {image: pg, tag: db}}",
    "accessory roles": "accessories: {db: {image: pg, roles: [web]}}",
    "accessory port forms": "accessories: {a: {image: x, host: h, port: 3306}, b: {image: x, host: h, port: '[::1]:80:8080/udp'}}",
    "proxy custom ssl": "proxy: {host: a.com, ssl: {certificate_pem: C, private_key_pem: K}}",
    "proxy run": "proxy: {run: {http_port: 8080, https_port: 8443, debug: true, options: {memory: 512m}}}",
    "proxy path prefixes": "proxy: {path_prefixes: [/api, /oauth], strip_path_prefix: false}",
    "ssh config list": "ssh: {config: [~/.ssh/a, ~/.ssh/b], key_data: [KEY], proxy: root@jump}",
    "sshkit": "sshkit: {max_concurrent_starts: 5, dns_retries: 1}",
    "boot percent": "boot: {limit: 50%, wait: 0, parallel_roles: true}",
    "logging options": "logging: {options: {max-size: 100m}}",
    "aliases": "aliases: {console: app exec -i bash, my-alias_2: details}",
    "hooks_output per hook": "hooks_output:\n  pre-deploy: verbose\n  post-deploy: :quiet",
    "empty role allowed": "servers: {web: [1.1.1.1], jobs: []}\nallow_empty_roles: true",
}

INVALID = {
    # section: (variation, first expected error)
    "role hosts type": (
        "servers: {web: {hosts: 1.1.1.1}}",
        "servers/web/hosts: should be an array",
    ),
    "host entry type": ("servers: [[1.1.1.1]]", "servers/0: should be a string or a hash"),
    "role options type": (
        "servers: {web: {hosts: [h], options: [a]}}",
        "servers/web/options: should be a hash",
    ),
    "role proxy typo": (
        "servers: {web: {hosts: [h], proxy: {sll: true}}}",
        "servers/web/proxy: unknown key: sll",
    ),
    "role logging typo": (
        "servers: {web: {hosts: [h], logging: {opts: {}}}}",
        "servers/web/logging: unknown key: opts",
    ),
    "env value hash": ("env: {A: {B: 1}}", "env/A: should be a string"),
    "env clear list": ("env: {clear: [a]}", "env/clear: should be a hash"),
    "env tag tags": (
        "env: {tags: {x: {tags: {}}}}",
        "env/tags/x: tags are only allowed in the root env",
    ),
    "registry password list": (
        "registry: {password: [A, B]}",
        "registry/password: should be a string or an array with one string (for secret lookup)",
    ),
    "registry missing user": (
        "registry: {server: ghcr.io, username: null}",
        "registry/username: is required",  # as the real Kamal 2.11 (bad-registry-username-null)
    ),
    "builder arch hash": (
        "builder: {arch: {a: 1}}",
        "builder/arch: should be an array or a string",
    ),
    "builder pack arches": (
        "builder: {arch: [amd64, arm64], pack: {builder: x, buildpacks: [a]}}",
        "builder: buildpacks only support building for one arch",
    ),
    "builder local false": (
        "builder: {local: false}",
        "builder: Cannot disable local builds, no remote is set",
    ),
    "builder cache typo": (
        "builder: {cache: {type: gha, foo: 1}}",
        "builder/cache: unknown key: foo",
    ),
    "accessory two hosts": (
        "accessories: {db: {image: x, host: a, hosts: [b]}}",
        "accessories/db: specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`",
    ),
    "builder cache type true": (
        "builder: {cache: {type: true}}",
        "builder: Invalid cache type: true",
    ),
    "accessory port with another flag": (
        "accessories: {db: {image: x, host: a, port: '127.0.0.1:5432:5432 --publish [::1]:5432:5432'}}",
        "accessories/db/port: invalid port '127.0.0.1:5432:5432 --publish [::1]:5432:5432': one"
        " port, PORT or [IP:]HOST_PORT:PORT (publish another with the accessory's options:"
        " publish: [...])",
    ),
    "accessory port list": (
        "accessories: {db: {image: x, host: a, port: [3306]}}",
        "accessories/db/port: should be a string",
    ),
    "accessory unknown roles": (
        "accessories: {db: {image: x, roles: [nope]}}",
        "accessories/db: unknown roles nope",
    ),
    "accessory files list": (
        "accessories: {db: {image: x, host: a, files: [[a]]}}",
        "accessories/db/files/0: should be a string or a hash",
    ),
    "accessory mount no remote": (
        "accessories: {db: {image: x, host: a, directories: [data]}}",
        "accessories/db/directories/0: 'data' should be local:remote[:options]",
    ),
    "accessory proxy typo": (
        "accessories: {db: {image: x, host: a, proxy: {hostname: x}}}",
        "accessories/db/proxy: unknown key: hostname",
    ),
    "accessory label": (
        "accessories: {db: {image: x, host: a, labels: {service: x}}}",
        "accessories/db/labels/service: invalid label. destination, role, and service are reserved labels",
    ),
    "accessory restart": (
        "accessories: {db: {image: x, host: a, options: {restart: always}}}",
        "accessories/db: Cannot set restart policy in docker options, unless-stopped is required",
    ),
    "accessory unknown tag": (
        "accessories: {db: {image: x, tag: nope}}",
        "accessories/db: no host has the tag nope",
    ),
    "proxy app_port list": ("proxy: {app_port: [3000]}", "proxy/app_port: should be an integer"),
    "proxy app_port range": ("proxy: {app_port: 70000}", "proxy/app_port: is out of range"),
    "proxy healthcheck typo": (
        "proxy: {healthcheck: {retries: 3}}",
        "proxy/healthcheck: unknown key: retries",
    ),
    "proxy path_prefix list": (
        "proxy: {host: a.com, path_prefix: [a]}",
        "proxy/path_prefix: should be a string",
    ),
    "proxy pem missing": (
        "proxy: {host: a.com, ssl: {certificate_pem: X}}",
        "proxy: Missing private_key_pem setting (required when certificate_pem is present)",
    ),
    "proxy ssl hash typo": (  # stricter: Kamal ignores it (stricter-ssl-unknown-key)
        "proxy: {host: a.com, ssl: {cert: X}}",
        "proxy/ssl: unknown key: cert (Kamal 2.11 ignores them and uses Let's Encrypt; a custom"
        " certificate is certificate_pem and private_key_pem, each the name of a secret)",
    ),
    "proxy shared ssl host": (
        "servers: {web: [a], api: {hosts: [b], proxy: {host: x.com, ssl: true}}}\nproxy: {host: x.com, ssl: true}",
        "Different roles can't share the same host for SSL: x.com",
    ),
    "ssh config number": (
        "ssh: {config: 5}",
        "ssh/config: should be a boolean or a string or an array",
    ),
    "ssh port list": ("ssh: {port: [1]}", "ssh/port: should be a string"),
    "ssh log level": (
        "ssh: {log_level: loud}",
        "ssh/log_level: should be one of: debug, info, warn, error, fatal",
    ),
    "sshkit string": (
        "sshkit: {max_concurrent_starts: '5'}",
        "sshkit/max_concurrent_starts: should be an integer",
    ),
    "sshkit zero": (
        "sshkit: {max_concurrent_starts: 0}",
        "sshkit/max_concurrent_starts: must be at least 1",
    ),
    "boot limit list": ("boot: {limit: [1]}", "boot/limit: should be a string"),
    "boot limit percent": (
        "boot: {limit: 150%}",
        "boot/limit: invalid limit '150%', use a positive number or a percentage like 25%",
    ),
    "boot wait negative": ("boot: {wait: -1}", "boot/wait: must not be negative"),
    "logging options list": ("logging: {options: [a]}", "logging/options: should be a hash"),
    "alias name": (
        "aliases: {'Bad Name': x}",
        "aliases/Bad Name: Invalid alias name: 'Bad Name'. Must only contain lowercase letters, alphanumeric, hyphens and underscores.",
    ),
    "labels value": ("labels: {a: [1]}", "labels/a: should be a string"),
    "readiness float": ("readiness_delay: 1.5", "readiness_delay: should be an integer"),
    "readiness negative": ("readiness_delay: -1", "readiness_delay: must not be negative"),
    "deploy timeout zero": ("deploy_timeout: 0", "deploy_timeout: must be at least 1"),
    "hooks_output per hook": (
        "hooks_output: {pre-deploy: loud}",
        "Invalid hooks_output 'loud' for hook 'pre-deploy', must be one of: quiet, verbose",
    ),
    # Quoted, it is the text ":quiet", not the Symbol: Kamal's to_sym makes :":quiet" of it.
    "hooks_output quoted symbol": (
        "hooks_output: {post-deploy: ':quiet'}",
        "Invalid hooks_output ':quiet' for hook 'post-deploy', must be one of: quiet, verbose",
    ),
    "null section": ("proxy: null", "proxy: should be a hash"),
    "nested x- key": ("proxy: {x-foo: 1}", "proxy: unknown key: x-foo"),
    "primary role named": ("primary_role: workers", "The primary_role workers isn't defined"),
    "no service": ("service: null", "service: should be a string"),
    "empty service": ("service: ''", "Missing required configuration for service"),
}


@pytest.mark.parametrize("variation", VALID.values(), ids=list(VALID))
def test_valid_settings_are_accepted(variation: str) -> None:
    assert errors_for(variation) == []


@pytest.mark.parametrize(("variation", "expected"), INVALID.values(), ids=list(INVALID))
def test_each_mistake_gives_its_message(variation: str, expected: str) -> None:
    errors = errors_for(variation)
    assert errors, "expected an error"
    assert errors[0] == expected


def test_a_local_registry_needs_no_credentials() -> None:
    base = {k: v for k, v in BASE.items() if k != "registry"}
    assert errors_for({"registry": {"server": "localhost:5555"}}, base=base) == []
    assert errors_for({"registry": {"server": "ghcr.io"}}, base=base) == [
        "registry/username: is required",
        "registry/password: is required",
    ]


def test_local_registry_is_localhost_and_a_port() -> None:
    """Kamal's ``local?`` is ``/^localhost[:$]/``: "localhost" alone is a remote registry
    (credentials required); a port that is not a number would be forwarded as port 0."""
    base = {k: v for k, v in BASE.items() if k != "registry"}
    assert errors_for({"registry": {"server": "localhost"}}, base=base)[0] == (
        "registry/username: is required"
    )
    assert errors_for({"registry": {"server": "localhost:abc"}}, base=base) == [
        "registry/server: a local registry is localhost:PORT, 'abc' is not a port number"
        " (Kamal would forward port 0 to the hosts)"
    ]
    assert errors_for({"registry": {"server": "localhost:65535"}}, base=base) == []


def test_accessories_without_servers_are_enough() -> None:
    base = {k: v for k, v in BASE.items() if k != "servers"}
    assert errors_for({"accessories": {"db": {"image": "pg", "host": "1.1.1.9"}}}, base=base) == []
    assert errors_for({}, base=base) == ["No servers or accessories specified"]


def test_every_error_is_listed_not_just_the_first() -> None:
    """In Kamal's order of the sections (the real Kamal 2.11 stops at the boot's)."""
    errors = errors_for("proxy: {app_port: x}\nboot: {sleep: 1}\nssh: {username: u}")
    assert errors == [
        "boot: unknown key: sleep",
        "proxy/app_port: should be an integer",
        "ssh: unknown key: username",
    ]


def test_unknown_keys_are_listed_in_document_order() -> None:
    assert errors_for("zeta: 1\nalpha: 2") == ["unknown keys: zeta, alpha"]
