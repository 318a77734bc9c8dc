"""The local ``docker login`` of ``registry login`` (Kamal 2.11's: run here, unless -L),
for real: the test bed's registry reached on the loopback (where docker speaks plain HTTP),
logged in with the password on stdin and out again, the credentials in docker's own config."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backstaff.projects import enter, run_cli
from tests.conftest import FIXTURES
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed


class _Forward(socketserver.BaseRequestHandler):
    target: tuple[str, int]

    def handle(self) -> None:
        upstream = socket.create_connection(self.target, timeout=10)

        def pump(source: socket.socket, sink: socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                sink.close()

        back = threading.Thread(target=pump, args=(upstream, self.request), daemon=True)
        back.start()
        pump(self.request, upstream)
        back.join(timeout=10)


@pytest.fixture
def loopback(testbed: Testbed) -> Iterator[str]:
    """127.0.0.1:PORT forwarding to the test bed's registry."""
    host, port = testbed.registry.rsplit(":", 1)
    handler = type("Forward", (_Forward,), {"target": (host, int(port))})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_local_login_and_logout(
    loopback: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    project = tmp_path / "app"
    shutil.copytree(FIXTURES / "example", project)
    config = project / "config" / "deploy.yml"
    config.write_text(config.read_text().replace("10.254.0.2:5000", loopback))
    enter(project, monkeypatch)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    code, _, err = run_cli(capsys, "registry", "login", "-R")
    assert code == 0, err
    auths = json.loads((tmp_path / "docker" / "config.json").read_text())["auths"]
    assert base64.b64decode(auths[loopback]["auth"]).decode() == "tb:tbpass"
    code, _, err = run_cli(capsys, "registry", "logout", "--skip-remote")
    assert code == 0, err
    assert loopback not in json.loads((tmp_path / "docker" / "config.json").read_text())["auths"]

    secrets = project / ".kamal" / "secrets"
    secrets.write_text(secrets.read_text().replace("tbpass", "wrong-pass-789"))
    code, out, err = run_cli(capsys, "registry", "login", "-R")
    assert code == 1 and "locally:" in err and "wrong-pass-789" not in out + err
