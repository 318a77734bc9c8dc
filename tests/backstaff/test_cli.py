"""The CLI in process: exit codes, masking, init, docs, and no tracebacks on bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from backstaff.cli import main
from tests.conftest import FIXTURES


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "example", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERSION", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_ok(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate")
    assert code == 0
    assert "Configuration is valid: 2 role(s), 1 accessory(ies), 3 host(s)." in out


def test_validate_lists_every_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "config" / "deploy.yml"
    path.write_text(path.read_text() + "boot: {sleep: 1}\nlogging: {opts: 1}\n")
    code, out, err = run(capsys, "validate")
    assert code == 1
    assert err.splitlines() == [
        "  ERROR: boot: unknown key: sleep",
        "  ERROR: logging: unknown key: opts",
    ]
    assert "Traceback" not in out + err


def test_missing_config_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-c", "config/nope.yml", "validate")
    assert code == 1
    assert "Configuration file not found in" in err and "config/nope.yml" in err


def test_missing_destination_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-d", "staging", "validate")
    assert code == 1 and "deploy.staging.yml" in err


def test_the_destination_file_is_named_as_kamal_names_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kamal's ``sub_ext(".DESTINATION.yml")`` on the config file as given: always ``.yml``,
    and a symlink's own name, not its target's (a real config: fixtures/corpus/meerkat-cms)."""
    config = project / "config"
    (config / "deploy.yml").rename(config / "deploy.yaml")
    code, _, err = run(capsys, "-c", "config/deploy.yaml", "-d", "staging", "validate")
    assert code == 1
    assert err.strip() == f"ERROR: Configuration file not found in {config}/deploy.staging.yml"
    (config / "deploy.staging.yml").write_text("env:\n  clear:\n    STAGE: yes\n")
    assert run(capsys, "-c", "config/deploy.yaml", "-d", "staging", "validate")[0] == 0
    (config / "shared.yml").symlink_to("deploy.yaml")
    code, _, err = run(capsys, "-c", "config/shared.yml", "-d", "staging", "validate")
    assert code == 1 and f"{config}/shared.staging.yml" in err


def test_config_masks_secrets(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version", "v7", "config")
    assert code == 0
    view = yaml.safe_load(out)
    assert view["version"] == "v7"
    assert view["servers"]["web"]["container_name"] == "tb-web-v7"
    assert view["servers"]["web"]["env"]["secret"] == {"SECRET_TOKEN": "[REDACTED]"}
    assert view["registry"]["password"] == "[REDACTED]"
    for secret in ("tbpass", "s3cr3t-token-123", "cache-pass-456"):
        assert secret not in out


def test_what_follows_the_first_yaml_document_is_ignored_with_a_warning(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As Kamal reads it (corpus ``spring-boot-kamal-demo``): the config as before, on stdout,
    and a warning on stderr naming the file and the line where what is ignored starts."""
    deploy = project / "config" / "deploy.yml"
    lines = len(deploy.read_text().splitlines())
    deploy.write_text(deploy.read_text() + "...\n# Kamal 1\nhealthcheck:\n  path: /up\n")
    code, out, err = run(capsys, "--version", "v7", "config")
    assert code == 0 and yaml.safe_load(out)["servers"]["web"]["container_name"] == "tb-web-v7"
    assert err == (
        "  WARNING: config/deploy.yml: only the first YAML document is read, as Kamal reads it:"
        f" line {lines + 3} and every line after it are ignored\n"
    )


def test_config_show_secrets(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version", "v7", "config", "--show-secrets")
    assert code == 0
    view = yaml.safe_load(out)
    assert view["servers"]["web"]["env"]["secret"] == {"SECRET_TOKEN": "s3cr3t-token-123"}
    assert view["registry"]["password"] == "tbpass"


def test_version_from_environment(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERSION", "from-env")
    _, out, _ = run(capsys, "config")
    assert yaml.safe_load(out)["version"] == "from-env"


def test_config_without_any_version_source(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "config")
    assert code == 1
    assert "Can't use commit hash as version, no git repository found in" in err


def test_init_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "deploy.yml").write_text("mine: true\n")
    code, out, _ = run(capsys, "init")
    assert code == 0
    assert "config/deploy.yml already exists, left unchanged" in out
    assert "Created .kamal/secrets" in out
    assert (tmp_path / "config" / "deploy.yml").read_text() == "mine: true\n"
    assert (tmp_path / ".kamal" / "hooks" / "pre-deploy.sample").stat().st_mode & 0o111
    assert oct((tmp_path / ".kamal" / "secrets").stat().st_mode & 0o777) == "0o600"
    code, out, _ = run(capsys, "init")
    assert "Created" not in out


def test_init_bundle_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kamal's --bundle adds its Ruby gem to the Gemfile: refused, with the reason."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "init", "--bundle")
    assert code == 1 and out == ""
    assert "init --bundle is not supported" in err and "bundle add kamal" in err
    assert list(tmp_path.iterdir()) == []


def test_init_template_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    run(capsys, "init")
    code, out, err = run(capsys, "validate")
    assert (code, err) == (0, "")


def test_docs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "docs")
    assert code == 0 and "proxy" in out and "accessory" in out
    code, out, _ = run(capsys, "docs", "proxy")
    assert code == 0
    assert "app_port: <integer>  # port the app listens on (default 80)" in out
    assert "  interval: <integer>" in out
    code, _, err = run(capsys, "docs", "nope")
    assert code == 1 and "No documentation found for nope" in err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    from backstaff import __version__

    assert run(capsys, "version")[:2] == (0, f"{__version__}\n")
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for option in (
        "-c, --config-file",
        "-d, --destination",
        "-h, --hosts",
        "-r, --roles",
        "-p, --primary",
        "-H, --skip-hooks",
    ):
        assert option in out
    for command in ("config", "docs", "init", "validate", "version"):
        assert run(capsys, command, "--help")[0] == 0


def test_unexpected_error_has_no_traceback_unless_verbose(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import backstaff.cli as cli_module

    def boom(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli_module, "init_project", boom)
    code, out, err = run(capsys, "init")
    assert code == 1 and "disk on fire" in err and "Traceback" not in err
    code, out, err = run(capsys, "-v", "init")
    assert "Traceback" in err


def test_dotenv_loaded_by_deploy_yml_reaches_the_secrets_file(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kamal's documented pattern: deploy.yml's ERB loads .env, .kamal/secrets reads from it."""
    monkeypatch.delenv("FROM_DOTENV", raising=False)
    config = project / "config" / "deploy.yml"
    config.write_text('<% require "dotenv"; Dotenv.load(".env") %>\n' + config.read_text())
    (project / ".env").write_text("FROM_DOTENV=dotenv-value-42\n")
    (project / ".kamal" / "secrets").write_text(
        (project / ".kamal" / "secrets").read_text() + "LOADED=$FROM_DOTENV\n"
    )
    code, out, err = run(capsys, "secrets", "print")
    assert code == 0, err
    assert "LOADED=dotenv-value-42" in out


@pytest.mark.parametrize("destination", [None, "staging"])
def test_the_secrets_see_the_destination_given_not_the_shells(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    destination: str | None,
) -> None:
    """Kamal sets KAMAL_DESTINATION to ``-d`` or unsets it before it reads the secrets (real
    secrets files read ``config/credentials/$KAMAL_DESTINATION.key``): one left in the shell
    must not pick another destination's key."""
    monkeypatch.setenv("KAMAL_DESTINATION", "production")
    if destination:
        (project / "config" / f"deploy.{destination}.yml").write_text("{}\n")
    (project / ".kamal" / "secrets-common").write_text("DEST=$KAMAL_DESTINATION\n")
    code, out, err = run(capsys, *(["-d", destination] if destination else []), "secrets", "print")
    assert code == 0, err
    assert f"DEST={destination or ''}\n" in out


def test_secrets_print_prints_nothing_when_a_secret_cannot_be_read(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As Kamal: every secret is read before any is printed."""
    secrets = project / ".kamal" / "secrets"
    secrets.write_text(secrets.read_text() + "LAST=$(echo not signed in >&2; exit 3)\n")
    code, out, err = run(capsys, "secrets", "print")
    assert (code, out) == (1, "")
    assert "secrets command `echo not signed in >&2; exit 3` failed with exit code 3" in err


def test_maintenance_drain_timeout_and_stale_containers_stop(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kamal's `app maintenance --drain-timeout` and `app stale_containers -s`."""
    code, out, err = run(capsys, "app", "maintenance", "--drain-timeout", "7", "--dry-run")
    assert code == 0, err
    assert out.count("kamal-proxy stop tb-web --drain-timeout=7s") == 2  # both web hosts
    assert run(capsys, "app", "maintenance", "--drain-timeout", "-1", "--dry-run")[0] == 1
    code, out, _ = run(capsys, "app", "stale_containers", "--help")
    assert code == 0 and "-s, --stop" in out
