"""The boot files of ``proxy boot_config set`` as Kamal 2.11 writes them (cli/proxy.rb,
configuration/proxy/boot.rb; compared byte for byte with the real Kamal on the test bed in
tests/backstaff/test_proxy_boot_config_testbed.py), and ``proxy reboot`` from them."""

from __future__ import annotations

from backstaff.planner.commands import proxy as proxy_cmd
from backstaff.planner.commands.words import render
from tests.planner.scenarios import example


def test_defaults_remove_every_file() -> None:
    files = proxy_cmd.boot_files(proxy_cmd.BootConfig())
    assert files == dict.fromkeys(proxy_cmd.BOOT_FILES)
    assert [render(c) for c in proxy_cmd.write_boot_files(files)] == [
        "mkdir -p .kamal/proxy", "rm -f .kamal/proxy/options", "rm -f .kamal/proxy/image",
        "rm -f .kamal/proxy/image_version", "rm -f .kamal/proxy/run_command",
    ]  # fmt: skip


def test_every_option() -> None:
    config = proxy_cmd.BootConfig(
        publish_host_ips=("10.0.0.1", "::1"), http_port=8080, https_port=8443,
        log_max_size="5m", registry="r.example", repository="myorg", image_version="v0.9.3",
        metrics_port=9000, debug=True, docker_options=("label=a=b",),
    )  # fmt: skip
    assert proxy_cmd.boot_files(config) == {
        "options": "--publish 10.0.0.1:8080:80 --publish 10.0.0.1:8443:443"
        " --publish [::1]:8080:80 --publish [::1]:8443:443 --log-opt max-size=5m"
        " --expose=9000 --label=a=b",
        "image": "r.example/myorg/kamal-proxy",  # --repository is the namespace
        "image_version": "v0.9.3",
        "run_command": 'kamal-proxy run --debug --metrics-port "9000"',
    }
    written = [render(c) for c in proxy_cmd.write_boot_files(proxy_cmd.boot_files(config))]
    assert written[2] == "printf %s r.example/myorg/kamal-proxy > .kamal/proxy/image"


def test_no_publish_and_no_log_size() -> None:
    files = proxy_cmd.boot_files(proxy_cmd.BootConfig(publish=False, log_max_size=""))
    assert files["options"] == ""  # not the default: written (empty), as Kamal's upload


def test_reboot_without_proxy_run_reads_the_boot_files() -> None:
    app = example("v1")
    assert not app.proxy_run.from_config
    run = render(proxy_cmd.reboot(app)[-1])
    assert run.startswith("echo $(cat .kamal/proxy/options 2> /dev/null")
    assert "| xargs docker run --name kamal-proxy" in run
