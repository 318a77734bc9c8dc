"""The test bed itself: registry auth, images, and the kamal-proxy test double on each host."""

from __future__ import annotations

import pytest

from tests.testbed import Testbed, TestbedError, images

pytestmark = pytest.mark.testbed


def test_registry_requires_the_password(testbed: Testbed) -> None:
    host = testbed.hosts[1]
    with pytest.raises(TestbedError):
        testbed.docker(
            host, "login", testbed.registry, "-u", "tb", "--password-stdin", input=b"wrong"
        )


def test_app_images_are_in_the_registry_with_the_service_label(testbed: Testbed) -> None:
    host = testbed.hosts[2]
    testbed.docker(host, "login", testbed.registry, "-u", testbed.registry_user,
                   "--password-stdin", input=testbed.registry_password.encode())  # fmt: skip
    image = f"{testbed.registry}/tb/app:v2"
    testbed.docker(host, "pull", image)
    label = testbed.docker(host, "inspect", "-f", "{{ .Config.Labels.service }}", image)
    assert label.strip() == "tb"


def test_every_host_has_the_labelled_proxy_double(testbed: Testbed) -> None:
    for host in testbed.hosts:
        title = testbed.docker(host, "image", "inspect", "-f",
                               '{{index .Config.Labels "org.opencontainers.image.title"}}',
                               images.PROXY_IMAGE)  # fmt: skip
        assert title.strip() == "kamal-proxy"
