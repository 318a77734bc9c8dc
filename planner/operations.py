"""One function per resource action, each returning the typed step that carries it out.

The plan graph (graph.py) and Kamal's imperative verbs (backstaff/commands_*.py) both call
these, so a step is built in exactly one place; graph.py only decides the order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from backstaff.planner.changes import Action
from backstaff.planner.commands import accessory as accessory_cmd
from backstaff.planner.commands import app as app_cmd
from backstaff.planner.commands import host as host_cmd
from backstaff.planner.commands import proxy as proxy_cmd
from backstaff.planner.commands import verbs
from backstaff.planner.commands.words import OR, Cmd, Raw, Val
from backstaff.planner.model import Accessory, App, ProxyRoute, Role
from backstaff.planner.steps import (
    AccessoryTemplate,
    EnvFile,
    ErrorPages,
    LocalFile,
    SecretFile,
    Step,
    Upload,
)

TRUE = "true"


def _hex(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


# -- hosts -------------------------------------------------------------------------------------


def docker_install(host: str, changes: tuple[str, ...] = ()) -> Step:
    """Docker missing: installed as ``server bootstrap`` does (the SSH user in the docker
    group); the executor reconnects afterwards so the group counts, as Kamal's HUP does."""
    return Step(f"host.docker[{host}]", host, "docker", "install docker", 1,
                (host_cmd.docker_bootstrap(host),), changes=changes)  # fmt: skip


def network_create(host: str, changes: tuple[str, ...] = ()) -> Step:
    return Step(f"network.kamal[{host}]", host, "network", "create the kamal network", 2,
                (host_cmd.network_create(),), changes=changes)  # fmt: skip


def registry_login(app: App, host: str, changes: tuple[str, ...] = ()) -> Step:
    registry = app.registry
    return Step(f"registry.login[{host}]", host, "login",
                f"log in to {registry.server or 'Docker Hub'}", 3, (host_cmd.login(registry),),
                stdin_secrets=host_cmd.login_stdin_secrets(registry), changes=changes)  # fmt: skip


def accessory_registry_login(
    app: App, accessory: Accessory, host: str, changes: tuple[str, ...] = ()
) -> Step:
    """Kamal's accessory ``prepare``: a log in to the accessory's own ``registry:`` (the app's
    registry when it has none) before its boot or reboot."""
    if accessory.registry is None:
        return registry_login(app, host, changes)
    registry = accessory.registry
    return Step(f"registry.login.{accessory.name}[{host}]", host, "login",
                f"log in to {registry.server or 'Docker Hub'} for {accessory.name}", 3,
                (host_cmd.login(registry),), stdin_secrets=host_cmd.login_stdin_secrets(registry),
                changes=changes)  # fmt: skip


def registry_logout(app: App, host: str) -> Step:
    return Step(f"registry.logout[{host}]", host, "logout", "log out of the registry", 5,
                (host_cmd.logout(app.registry),))  # fmt: skip


def image_pull(app: App, host: str) -> Step:
    return Step(f"image.pull[{host}]", host, "pull", f"pull {app.image}", 4, host_cmd.pull(app))


def lock_acquire(app: App) -> Step:
    primary = str(app.primary_host)
    return Step(f"lock.acquire[{primary}]", primary, "lock", "take the deploy lock", 0,
                (("mkdir", "-p", ".kamal"), host_cmd.lock_acquire(app)))  # fmt: skip


def lock_release(app: App) -> Step:
    primary = str(app.primary_host)
    return Step(f"lock.release[{primary}]", primary, "lock", "release the deploy lock", 12,
                (host_cmd.lock_release(app),))  # fmt: skip


# -- kamal-proxy -------------------------------------------------------------------------------


def proxy_boot(app: App, host: str, action: Action, changes: tuple[str, ...] = ()) -> Step:
    """Create boots it, update starts the stopped container, replace reboots it."""
    commands: tuple[Cmd, ...]
    if action is Action.CREATE:
        commands = (proxy_cmd.make_apps_config_directory(), proxy_cmd.boot(app))
    elif action is Action.UPDATE:
        commands = (("docker", "container", "start", proxy_cmd.CONTAINER),)
    else:
        commands = proxy_cmd.reboot(app)
    return Step(f"proxy.boot[{host}]", host, "proxy", f"{action.value} kamal-proxy", 5, commands,
                changes=changes)  # fmt: skip


def route(app: App, role: Role, host: str, target: str, changes: tuple[str, ...] = ()) -> Step:
    assert role.proxy is not None
    command = proxy_cmd.deploy(app, role.container_prefix, role.proxy, target, role.name)
    return Step(f"route.{role.name}[{host}]", host, "route",
                f"point {role.container_prefix} at {target}", 8, (command,), changes=changes)  # fmt: skip


# -- accessories -------------------------------------------------------------------------------


def certificate_uploads(
    app: App, route: ProxyRoute, tls_role: str | None
) -> tuple[Cmd | Upload, ...]:
    """A custom certificate (``proxy.ssl.certificate_pem``/``private_key_pem``) written where
    kamal-proxy reads it: the certificate 0644 as in Kamal, the key 0640 in the group the
    proxy runs as (Kamal writes it 0644)."""
    if route.custom_certificate is None:
        return ()
    certificate, key = route.custom_certificate
    directory = proxy_cmd.tls_directory(app, tls_role)
    return (
        proxy_cmd.make_directory(directory),
        Upload(f"{directory}/cert.pem", "0644", SecretFile(certificate)),
        Upload(f"{directory}/key.pem", "0640", SecretFile(key)),
        proxy_cmd.key_readable_by_proxy(app, tls_role),
    )


def error_pages_upload(app: App) -> tuple[Cmd | Upload, ...]:
    """This version's error pages (Kamal's ``ErrorPages``), where ``--error-pages`` points."""
    if not app.error_pages_path:
        return ()
    directory = f"{proxy_cmd.error_pages_directory(app)}/{app.version}"
    return (proxy_cmd.make_directory(directory),
            Upload(directory, "0644", ErrorPages(app.error_pages_path)))  # fmt: skip


def proxy_files(app: App, host: str) -> Step | None:
    """Before any boot on an app host (Kamal's ``app boot``): the version's error pages, and
    the custom certificate of each role on the host that runs the proxy."""
    actions = error_pages_upload(app)
    for role in app.roles:
        if host in role.hosts and role.proxy is not None:
            actions += certificate_uploads(app, role.proxy, role.name)
    if not actions:
        return None
    return Step(f"proxy.files[{host}]", host, "proxy_files",
                "write the error pages and certificates kamal-proxy reads", 6, actions)  # fmt: skip


def accessory_uploads(accessory: Accessory) -> tuple[Upload, ...]:
    files = tuple(
        Upload(
            accessory_cmd.file_path(accessory, m),
            m.mode or "0755",
            AccessoryTemplate(accessory.name, m.local) if m.local.endswith("erb")
            else LocalFile(m.local),
        )
        for m in accessory.files
    )  # fmt: skip
    return files + (Upload(accessory.env_file, "0600", EnvFile("accessory", accessory.name)),)


def accessory_route(app: App, accessory: Accessory) -> tuple[Cmd | Upload, ...]:
    """After the container runs: its route in kamal-proxy, to the running container (Kamal's
    accessory ``boot``), its certificate written first."""
    if accessory.proxy is None:
        return ()
    target = accessory_cmd.running_container_id(accessory)
    return certificate_uploads(app, accessory.proxy, None) + (
        proxy_cmd.deploy(app, accessory.service_name, accessory.proxy, target, None),
    )


def accessory_boot(
    app: App, accessory: Accessory, host: str, action: Action, changes: tuple[str, ...] = ()
) -> Step:
    """Update starts the stopped container; create (and replace, after removing the old one)
    makes the directories, uploads files and the env file, and runs the container."""
    actions: tuple[Cmd | Upload, ...]
    if action is Action.UPDATE:
        actions = (accessory_cmd.start(accessory),)
    else:
        actions = accessory_cmd.make_directories(accessory) + accessory_uploads(accessory)
        actions += accessory_cmd.set_owners(accessory)
        if action is Action.REPLACE:
            actions += (accessory_cmd.stop(accessory.service_name),
                        accessory_cmd.remove_container(accessory.service_name))  # fmt: skip
        actions += (accessory_cmd.run(app, accessory, host),)
    actions += accessory_route(app, accessory)
    return Step(f"accessory.boot.{accessory.name}[{host}]", host, "accessory",
                f"{action.value} accessory {accessory.name}", 6, actions, changes=changes,
                audit=(f"Booted {accessory.name} accessory",))  # fmt: skip


def accessory_reboot(app: App, accessory: Accessory, host: str) -> Step:
    """Kamal's ``accessory reboot``: pull, stop (if running), remove, boot again."""
    actions: tuple[Cmd | Upload, ...] = (
        accessory_cmd.pull(accessory),
        accessory_cmd.stop(accessory.service_name) + (OR, TRUE),
        accessory_cmd.remove_container(accessory.service_name),
        *accessory_cmd.make_directories(accessory),
        *accessory_uploads(accessory),
        *accessory_cmd.set_owners(accessory),
        accessory_cmd.run(app, accessory, host),
        *accessory_route(app, accessory),
    )
    return Step(f"accessory.reboot.{accessory.name}[{host}]", host, "accessory",
                f"reboot {accessory.name}", 5, actions, audit=(f"Booted {accessory.name} accessory",))  # fmt: skip


def accessory_remove(name: str, service: str, host: str, changes: tuple[str, ...] = ()) -> Step:
    commands = (accessory_cmd.stop(service), accessory_cmd.remove_container(service))
    return Step(f"accessory.remove.{name}[{host}]", host, "delete", f"remove accessory {name}",
                10, commands, changes=changes)  # fmt: skip


# -- app ---------------------------------------------------------------------------------------


def _clash(
    app: App, role: Role, host: str, before: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    """What the diff found where ``role`` boots on ``host``: the name a container holding the
    version's name is renamed to (None: no clash), and the old container to stop once the
    new one serves (None: nothing running before)."""
    name = role.container_name(app.version)
    old_container = before.get("container")
    if old_container != name and "name_taken_by" not in before:
        return None, str(old_container) if old_container else None
    # The name is taken (same version redeployed, a stopped container, a rollback): rename
    # it out of the way, as Kamal does.
    renamed = f"{name}_replaced_{_hex(host, name, _clashing_id(before))}"  # unique per container
    if old_container == name:
        running = before.get("state") in ("running", "restarting")
        return renamed, renamed if running else None
    return renamed, str(old_container) if old_container else None


def _clashing_id(before: Mapping[str, Any]) -> str:
    """The short id of the container holding the version's name: the running one, or another
    (``name_taken_id``: a rollback's stopped container)."""
    return str(before.get("name_taken_id") or before.get("id", ""))


def _rename(
    app: App, role: Role, host: str, before: Mapping[str, Any]
) -> tuple[str, str, str] | None:
    """The rename of a container holding the version's name (a rollback, the same version
    deployed again), as Kamal's ``old_version_renamed_if_clashing``: the new name, Kamal's
    audit line (which names versions, not containers) and the short id of the container
    renamed. None when the name is free."""
    renamed, _ = _clash(app, role, host, before)
    if renamed is None:
        return None
    new_version = app.version + renamed.removeprefix(role.container_name(app.version))
    line = f"[{role.name}] Renaming container {app.version} to {new_version}"
    return renamed, line, _clashing_id(before)


def app_boot(
    app: App, role: Role, host: str, before: Mapping[str, Any], changes: tuple[str, ...] = ()
) -> Step:
    """Start the version's container of ``role`` on ``host`` and wait until it serves (the
    proxy switched to it, or ready): Kamal's ``start_new_version``. A failure stops the new
    container, so the old one keeps serving. ``before`` is what the diff found there (the
    running container, a container holding the name). A container holding the name is renamed
    first, in the same round trip, and both of Kamal's audit lines are written; the failure's
    cleanup then leaves that container alone if it still holds the name (the rename failed),
    as Kamal's, whose rename is outside the boot it cleans up after.

    Kamal renames before a role waits at the primary-role barrier; here in the boot's round
    trip, after it (a step of its own measured slower: docs/performance.md), so a barrier that
    never opens leaves the name as it was."""
    name = role.container_name(app.version)
    commands: list[Cmd | Upload] = []
    audit: tuple[str, ...] = ()
    cleanup = app_cmd.stop_container(name, None, app.drain_timeout)
    rename = _rename(app, role, host, before)
    if rename is not None:
        renamed, line, clashing = rename
        commands.append(app_cmd.rename(role, app.version, renamed))
        audit = (line,)
        cleanup = app_cmd.stop_container_unless(name, clashing, None, app.drain_timeout)
    commands += [
        app_cmd.make_env_directory(app),
        Upload(role.env_file, "0600", EnvFile("role", role.name)),
    ]
    if role.proxy:
        commands += [
            app_cmd.run_keeping_id(app, role, host, app.version),
            proxy_cmd.deploy(app, role.container_prefix, role.proxy, app_cmd.BOOTED_SHORT_ID,
                             role.name),
        ]  # fmt: skip
    else:
        commands += [
            app_cmd.run(app, role, host, app.version),
            app_cmd.wait_ready(role, app.version, app.readiness_delay, app.deploy_timeout),
        ]
    return Step(
        f"app.boot.{role.name}[{host}]", host, "app",
        f"boot {name}" + (f" (replacing {before.get('container')})" if before else ""),
        7, tuple(commands), changes=changes,
        audit=(*audit, f"[{role.name}] Booted app version {app.version}"),
        on_failure=(cleanup,),
    )  # fmt: skip


def app_stop_old(
    app: App, role: Role, host: str, before: Mapping[str, Any], changes: tuple[str, ...] = ()
) -> Step | None:
    """Stop the container the boot replaced, and clean up after it: Kamal's
    ``stop_old_version``, its own step because Kamal opens the primary-role barrier before it
    (the other roles need not wait for the old container to stop). Its failure leaves the new
    container serving. None when nothing ran before."""
    _, old_container = _clash(app, role, host, before)
    if old_container is None:
        return None
    commands: list[Cmd] = [app_cmd.stop_container(old_container, role, app.drain_timeout)]
    if app_cmd.has_assets(role):
        commands.append(app_cmd.clean_up_assets(app, role))
    if app.error_pages_path:
        commands.append(proxy_cmd.clean_up_error_pages(app))
    return Step(f"app.stop_old.{role.name}[{host}]", host, "app_stop",
                f"stop {old_container}, replaced by {role.container_name(app.version)}", 7,
                tuple(commands), changes=changes)  # fmt: skip


def assets_prepare(app: App, role: Role, host: str, old_version: str | None) -> Step:
    """The version's assets extracted and its volume filled, bridged with the version running
    now (``old_version``); on every host before any boot, as Kamal does."""
    commands = (
        app_cmd.extract_assets(app, role),
        app_cmd.sync_asset_volumes(app, role, old_version),
    )
    return Step(f"assets.prepare.{role.name}[{host}]", host, "assets",
                f"extract the assets of {app.image} for {role.name}", 6, commands)  # fmt: skip


def app_remove(
    app: App, role_name: str, host: str, container: str, prefix: str, downtime: bool,
    reason: str, changes: tuple[str, ...] = (),
) -> Step:  # fmt: skip
    """Stop a container whose role or host left the config (its route first, if it served)."""
    commands: tuple[Cmd, ...] = (
        ("docker", "exec", "kamal-proxy", "kamal-proxy", "remove", Val(prefix), OR, TRUE),
    ) if downtime else ()  # fmt: skip
    commands += (app_cmd.stop_container(container, None, app.drain_timeout),)
    return Step(f"app.remove.{role_name}[{host}]", host, "delete", f"stop {container} ({reason})",
                10, commands, changes=changes)  # fmt: skip


def stale_remove(app: App, host: str, stale: tuple[tuple[str, str], ...],
                 changes: tuple[str, ...] = ()) -> Step:  # fmt: skip
    """``stale``: (container id, state) of containers beyond what is kept. By id, not by name:
    this runs after the boots, and a boot may have renamed a stale container that held its
    version's name (a deploy that failed half way leaves one) and given the name to the new
    container."""
    commands = tuple(
        ("docker", "rm", Val(container)) if state != "running"
        else ("docker", "stop", Val(container))
        for container, state in stale
    )  # fmt: skip
    return Step(f"stale.remove[{host}]", host, "delete", f"remove {len(stale)} stale container(s)",
                10, commands, changes=changes)  # fmt: skip


def tag_latest(app: App, host: str) -> Step:
    return Step(f"image.tag_latest[{host}]", host, "tag",
                f"tag {app.image} as {app.latest_image}", 9, (app_cmd.tag_latest(app),),
                audit=(f"Tagging {app.image} as the latest image",))  # fmt: skip


def prune(app: App, host: str) -> Step:
    return Step(f"prune[{host}]", host, "prune",
                f"prune stopped containers beyond {app.retain_containers} and unused images", 11,
                (host_cmd.prune_containers(app),) + host_cmd.prune_images(app))  # fmt: skip


def boot_wait(group: int, seconds: int) -> Step:
    return Step(f"boot.wait.{group}[local]", "local", "wait",
                f"wait {seconds}s after boot group {group}", 7, (("sleep", str(int(seconds))),))  # fmt: skip


def barrier(name: str, description: str, phase: int) -> Step:
    """A step that runs nothing: N steps waiting for M others cost N + M edges, not N x M."""
    return Step(f"barrier.{name}[local]", "local", "barrier", description, phase)


# -- Kamal's imperative verbs ------------------------------------------------------------------


def prune_what(app: App, host: str, what: str) -> Step:
    """``prune all|containers|images``."""
    commands: tuple[Cmd, ...] = ()
    if what in ("all", "containers"):
        commands += (host_cmd.prune_containers(app),)
    if what in ("all", "images"):
        commands += host_cmd.prune_images(app)
    return Step(f"prune.{what}[{host}]", host, "prune", f"prune {what}", 5, commands,
                audit=(f"Pruned {what}",))  # fmt: skip


def docker_bootstrap(host: str) -> Step:
    """``server bootstrap``: install docker where ``docker -v`` fails (Kamal's commands)."""
    return Step(f"server.bootstrap[{host}]", host, "server", "install docker if missing", 5,
                (host_cmd.docker_bootstrap(host),))  # fmt: skip


REMOVE_PROXY_IF_UNUSED = Raw(
    'sh -c \'if [ "$(ls .kamal/apps 2>/dev/null | wc -l)" -eq 0 ]; then'
    " docker container stop kamal-proxy; docker container prune --force --filter"
    " label=org.opencontainers.image.title=kamal-proxy; rm -rf .kamal/proxy;"
    ' else echo "Not removing the proxy, as other apps are installed"; fi\''
)


def remove_app(app: App, host: str) -> Step:
    """``remove``: the app's containers, images and directories, kamal-proxy when no other
    app uses it, the accessories and the registry login."""
    actions: list[Cmd] = []
    for role in app.roles:
        if host in role.hosts:
            if role.proxy:
                actions.append(proxy_cmd.remove(role.container_prefix) + (OR, TRUE))
            actions += [
                verbs.app_stop(app, role) + (OR, TRUE),
                verbs.app_remove_containers(app, role),
            ]
    if any(host in r.hosts for r in app.roles):
        actions += [verbs.app_remove_images(app), *verbs.remove_app_directories(app)]
    if host in app.proxy_hosts:
        actions.append((REMOVE_PROXY_IF_UNUSED,))
    for accessory in app.accessories:
        if host in accessory.hosts:
            actions += [accessory_cmd.stop(accessory.service_name) + (OR, TRUE),
                        *accessory_route_removal(accessory),
                        accessory_cmd.remove_container(accessory.service_name),
                        ("docker", "image", "rm", "--force", Val(accessory.image)),
                        ("rm", "-rf", Val(accessory.service_name))]  # fmt: skip
    if not app.registry.local:
        actions.append(host_cmd.logout(app.registry))
    return Step(f"remove[{host}]", host, "remove", "remove everything of the app", 5,
                tuple(actions), audit=("Removed app",))  # fmt: skip


def app_start(app: App, role: Role, host: str) -> Step:
    """``app start``: the most recent container of the role, and the proxy pointed at it."""
    actions: tuple[Cmd, ...] = (verbs.app_start_latest(app, role),)
    if role.proxy:
        target = verbs.current_container_id(app, role)
        actions += (proxy_cmd.deploy(app, role.container_prefix, role.proxy, target, role.name),)
    return Step(f"app.start.{role.name}[{host}]", host, "app", f"start {role.name}", 5, actions,
                audit=(f"[{role.name}] Started app version {app.version}",))  # fmt: skip


def app_stop(app: App, role: Role, host: str) -> Step:
    """``app stop``: out of the proxy, then the current container stopped."""
    actions: tuple[Cmd, ...] = ()
    if role.proxy:
        actions += (proxy_cmd.remove(role.container_prefix) + (OR, TRUE),)
    actions += (verbs.app_stop(app, role),)
    return Step(f"app.stop.{role.name}[{host}]", host, "app", f"stop {role.name}", 5, actions,
                audit=(f"[{role.name}] Stopped app",))  # fmt: skip


def app_remove_all(app: App, host: str, roles: tuple[Role, ...]) -> Step:
    """``app remove``: the roles' containers on ``host``, the images and the directories."""
    actions: list[Cmd] = []
    for role in roles:
        if role.proxy:
            actions.append(proxy_cmd.remove(role.container_prefix) + (OR, TRUE))
        actions += [verbs.app_stop(app, role), verbs.app_remove_containers(app, role)]
    actions += [verbs.app_remove_images(app), *verbs.remove_app_directories(app)]
    return Step(f"app.remove[{host}]", host, "app", "remove the app", 5, tuple(actions),
                audit=("Removed all app containers",))  # fmt: skip


def app_stop_stale(app: App, role: Role, host: str, container: str) -> Step:
    return Step(f"app.stale.{container}[{host}]", host, "app", f"stop {container}", 5,
                (app_cmd.stop_container(container, role, app.drain_timeout),))  # fmt: skip


def app_maintenance(
    app: App, role: Role, host: str, message: str | None, drain_timeout: int | None = None
) -> Step:
    return Step(f"app.maintenance.{role.name}[{host}]", host, "app",
                f"maintenance for {role.container_prefix}", 5,
                (verbs.proxy_maintenance(app, role, message, drain_timeout),),
                audit=(f"[{role.name}] Maintenance mode",))  # fmt: skip


def app_live(app: App, role: Role, host: str) -> Step:
    return Step(f"app.live.{role.name}[{host}]", host, "app", f"resume {role.container_prefix}", 5,
                (verbs.proxy_live(role),), audit=(f"[{role.name}] Live mode",))  # fmt: skip


def accessory_route_removal(accessory: Accessory) -> tuple[Cmd, ...]:
    """After an accessory with ``proxy:`` stops: its route out of kamal-proxy (Kamal's
    accessory ``stop``). A route or kamal-proxy already gone is no failure here."""
    if accessory.proxy is None:
        return ()
    return (proxy_cmd.remove(accessory.service_name) + (OR, TRUE),)


def accessory_remove_all(accessory: Accessory, host: str) -> Step:
    """``accessory remove``: stopped (its route removed), the container, its image and its
    data directory."""
    actions: tuple[Cmd, ...] = (
        accessory_cmd.stop(accessory.service_name) + (OR, TRUE),
        *accessory_route_removal(accessory),
        accessory_cmd.remove_container(accessory.service_name),
        ("docker", "image", "rm", "--force", Val(accessory.image)),
        ("rm", "-rf", Val(accessory.service_name)),
    )
    return Step(f"accessory.remove.{accessory.name}[{host}]", host, "accessory",
                f"remove {accessory.name}", 5, actions,
                audit=(f"Remove {accessory.name} accessory container",))  # fmt: skip


def accessory_start(app: App, accessory: Accessory, host: str) -> Step:
    """Start the container, then (with ``proxy:``) its route to it, as Kamal's ``start``."""
    actions = (accessory_cmd.start(accessory), *accessory_route(app, accessory))
    return Step(f"accessory.start.{accessory.name}[{host}]", host, "accessory",
                f"start {accessory.name}", 5, actions,
                audit=(f"Started {accessory.name} accessory",))  # fmt: skip


def accessory_stop(accessory: Accessory, host: str) -> Step:
    """Stop the container (already stopped is fine, as in Kamal), then remove its route."""
    actions = (accessory_cmd.stop(accessory.service_name) + (OR, TRUE),
               *accessory_route_removal(accessory))  # fmt: skip
    return Step(f"accessory.stop.{accessory.name}[{host}]", host, "accessory",
                f"stop {accessory.name}", 5, actions,
                audit=(f"Stopped {accessory.name} accessory",))  # fmt: skip


def accessory_restart(app: App, accessory: Accessory, host: str) -> Step:
    """Kamal's ``restart``: its ``stop`` then its ``start`` (the route removed, deployed)."""
    stop, start = accessory_stop(accessory, host), accessory_start(app, accessory, host)
    return Step(f"accessory.restart.{accessory.name}[{host}]", host, "accessory",
                f"restart {accessory.name}", 5, stop.commands + start.commands)  # fmt: skip


def proxy_verb(host: str, verb: str, commands: tuple[Cmd, ...], audit: str | None = None) -> Step:
    """``proxy boot|reboot|start|stop|restart|remove|boot_config``: the commands on one host."""
    return Step(f"proxy.{verb}[{host}]", host, "proxy", f"{verb} kamal-proxy", 5, commands,
                audit=(audit,) if audit else ())  # fmt: skip


def proxy_upgrade(host: str) -> Step:
    """Kamal's ``proxy upgrade`` on one host, before kamal-proxy boots: Kamal 1's Traefik and
    any kamal-proxy (container and image) removed."""
    commands = (proxy_cmd.cleanup_traefik(), proxy_cmd.stop() + (OR, TRUE),
                proxy_cmd.remove_container(), proxy_cmd.remove_image())  # fmt: skip
    return Step(f"proxy.upgrade[{host}]", host, "proxy", "remove Traefik and kamal-proxy", 5,
                commands, audit=("Rebooted proxy",))  # fmt: skip


def proxy_boot_commands(app: App) -> tuple[Cmd, ...]:
    """``proxy boot``: the network, the apps-config directory, then start or run kamal-proxy."""
    return (host_cmd.network_create(), proxy_cmd.make_apps_config_directory(), proxy_cmd.boot(app))


def proxy_reboot_commands(app: App) -> tuple[Cmd, ...]:
    """``proxy reboot``: Kamal's reboot, a proxy that is already stopped tolerated."""
    return tuple(c + ((OR, TRUE) if c == proxy_cmd.stop() else ()) for c in proxy_cmd.reboot(app))
