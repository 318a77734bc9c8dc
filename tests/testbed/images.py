"""Images for the test bed, made with ``docker import`` from Debian's busybox-static.

Nothing is pulled from the internet: each image is a root filesystem holding busybox, its
applet links and a few scripts. ``tb/app`` v1, v2 and bad (no /up: fails its health check),
``tb/busybox:1.35`` for accessories, and the kamal-proxy TEST DOUBLE.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

FILES = Path(__file__).parent / "files"
BUSYBOX = "/bin/busybox"
PROXY_IMAGE = "basecamp/kamal-proxy:v0.9.2"


def _applets() -> list[str]:
    out = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True)
    return [a for a in out.stdout.split() if a not in ("busybox",)]


def _add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


def rootfs(extra: dict[str, tuple[bytes, int]]) -> bytes:
    """A tar of busybox with every applet linked in /bin, plus ``extra`` files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("bin", "etc", "tmp", "www", "www/assets", "data", "root", "home"):
            _add_dir(tar, directory, 0o1777 if directory == "tmp" else 0o755)
        _add_file(tar, "bin/busybox", Path(BUSYBOX).read_bytes(), 0o755)
        for applet in _applets():
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        _add_file(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        _add_file(tar, "etc/group", b"root:x:0:\n")
        for name, (data, mode) in sorted(extra.items()):
            _add_file(tar, name, data, mode)
    return buffer.getvalue()


def _script(name: str) -> tuple[bytes, int]:
    return (FILES / name).read_bytes(), 0o755


def app_rootfs(version: str) -> bytes:
    extra = {
        "bin/tb-httpd": _script("tb-httpd"),
        "bin/tb-worker": _script("tb-worker"),
        "www/index.html": (f"tb {version}\n".encode(), 0o644),
        # assets of this version only, for asset_path bridging (asset_path: /www/assets)
        f"www/assets/app-{version}.css": (f"{version} css\n".encode(), 0o644),
    }
    if version != "bad":
        extra["www/up"] = (f"ok {version}\n".encode(), 0o644)
    return rootfs(extra)


def proxy_rootfs() -> bytes:
    return rootfs({"bin/kamal-proxy": _script("kamal-proxy")})


Docker = Callable[..., str]  # docker(*args, input=bytes | None) -> stdout, raising on failure


def docker_import(docker: Docker, data: bytes, tag: str, changes: list[str]) -> None:
    args = ["import"]
    for change in changes:
        args += ["--change", change]
    docker(*args, "-", tag, input=data)


def files_digest() -> str:
    """Changes whenever an image's scripts do, so the test bed rebuilds and re-pushes them."""
    digest = hashlib.sha256(Path(__file__).read_bytes())  # this file builds the images
    for path in sorted(FILES.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def proxy_double_digest() -> str:
    """Changes whenever the double's script does, so hosts get the new one re-imported."""
    return hashlib.sha256((FILES / "kamal-proxy").read_bytes()).hexdigest()[:16]


def import_proxy_double(docker: Docker) -> None:
    """kamal-proxy is never pulled: each host gets the double imported under the real name."""
    docker_import(
        docker,
        proxy_rootfs(),
        PROXY_IMAGE,
        [
            "LABEL org.opencontainers.image.title=kamal-proxy",
            "LABEL backstaff.test-double=kamal-proxy",
            f"LABEL backstaff.test-double-digest={proxy_double_digest()}",
            'CMD ["kamal-proxy", "run"]',
            "EXPOSE 80 443",
        ],
    )


def push_app_images(docker: Docker, registry: str, service: str = "tb") -> None:
    """``<registry>/tb/app:{v1,v2,v3,bad}`` labelled ``service=tb``, and ``tb/busybox:1.35``."""
    for version in ("v1", "v2", "v3", "bad"):
        tag = f"{registry}/{service}/app:{version}"
        docker_import(
            docker,
            app_rootfs(version),
            tag,
            [f"LABEL service={service}", 'CMD ["/bin/tb-httpd", "80", "/www"]', "EXPOSE 80"],
        )
        docker("push", tag)
    tag = f"{registry}/{service}/busybox:1.35"
    docker_import(docker, app_rootfs("accessory"), tag, ['CMD ["/bin/sh"]'])
    docker("push", tag)
