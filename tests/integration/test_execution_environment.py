"""An execution environment built from this collection asks for the engine's libraries.

ansible-builder finds a collection's dependencies by introspecting the installed collection while
the image builds (no registry is reachable here, so no image is built): this runs that same
introspection on the collection as `ansible-galaxy collection install` lays it out from the tarball,
and `ansible-builder create` on a definition that installs the tarball."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from .conftest import ROOT, ansible_env

# Ansible-builder's view of the collection's metadata: the controller matrix does not repeat it.
pytestmark = pytest.mark.controller_independent

BIN = os.path.join(ROOT, "build", "venv", "bin")


def _run(*command: str, cwd: str | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=ansible_env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _tarball(tmp_path) -> str:
    _run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(tmp_path), ROOT)
    (tarball,) = [f for f in os.listdir(tmp_path) if f.endswith(".tar.gz")]
    return str(tmp_path / tarball)


def test_introspection_of_the_installed_collection_finds_the_engine_libraries(tmp_path):
    tarball = _tarball(tmp_path)
    _run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "-p", str(tmp_path / "collections"),
         tarball)
    found = yaml.safe_load(_run(os.path.join(BIN, "ansible-builder"), "introspect", str(tmp_path / "collections")))
    python = [line.split()[0] for line in found["python"]]
    assert python == ["acme>=2.1.0", "cryptography>=38.0.0", "dnspython>=2.3.0"]  # dnspython: dns-01 only
    assert all(line.endswith("# from collection zerodowntime.acme") for line in found["python"] + found["system"])
    assert any(line.startswith("libssl-dev [compile platform:dpkg]") for line in found["system"])


def test_a_build_context_installs_the_collection_and_introspects_it(tmp_path):
    tarball = _tarball(tmp_path)
    (tmp_path / "requirements.yml").write_text(yaml.safe_dump({"collections": [{"name": tarball, "type": "file"}]}))
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump({
        "version": 3,
        "images": {"base_image": {"name": "localhost/zdt-ee-base:latest"}},
        "dependencies": {"galaxy": "requirements.yml", "ansible_core": {"package_pip": "ansible-core==2.19.14"},
                         "ansible_runner": {"package_pip": "ansible-runner"}},
    }))
    _run(os.path.join(BIN, "ansible-builder"), "create", "--file", "execution-environment.yml",
         "--context", "context", "--output-filename", "Containerfile", cwd=str(tmp_path))
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    galaxy = yaml.safe_load((tmp_path / "context" / "_build" / "requirements.yml").read_text())
    assert galaxy["collections"][0]["name"].endswith("zerodowntime-acme-0.1.0.tar.gz")
    assert "introspect" in containerfile and "ansible-galaxy collection install" in containerfile
