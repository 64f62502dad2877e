"""A Docker engine and the locally built base images (tools/dockerd.sh, tools/images/build.sh)."""

from __future__ import annotations

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")


def ensure_engine_and_images() -> None:
    subprocess.run(["sh", os.path.join(ROOT, "tools", "dockerd.sh"), os.path.join(BUILD, "docker")], check=True)
    subprocess.run(["sh", os.path.join(ROOT, "tools", "images", "build.sh"), os.path.join(BUILD, "images")],
                   check=True)


def systemd_container(name: str, image: str, hosts: dict[str, str]) -> None:
    """Start `name` with systemd as PID 1 on the host's network (no --privileged needed)."""
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    command = ["docker", "run", "-d", "--name", name, "--network", "host", "--cgroupns", "host",
               "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
               "--stop-signal", "SIGRTMIN+3"]
    for host, address in hosts.items():
        command += ["--add-host", f"{host}:{address}"]
    subprocess.run(command + [image, "/sbin/init"], capture_output=True, check=True)


def remove(name: str) -> None:
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def plain_container(name: str, image: str, hosts: dict[str, str]) -> None:
    """Start `name` without an init (services start by their sysvinit scripts) on the host's network."""
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    command = ["docker", "run", "-d", "--name", name, "--network", "host"]
    for host, address in hosts.items():
        command += ["--add-host", f"{host}:{address}"]
    subprocess.run(command + [image, "sleep", "infinity"], capture_output=True, check=True)
