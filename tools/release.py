"""`make release`: the changelog of galaxy.yml's version, the tarball, and proof that users can use it.

1. `antsibull-changelog release` for galaxy.yml's version when it has no release yet (the fragments
   become CHANGELOG.rst's section for it); then `antsibull-changelog lint`.
2. `ansible-galaxy collection build`, and an install of the tarball into an empty collections path.
3. From that install only: `ansible-doc` renders every module, filter and lookup, and every role's
   argument specs.
4. antsibull-docs and Sphinx build the collection's HTML docs with warnings as errors. No
   network here: references to docs.ansible.com resolve through a small local inventory
   (REFERENCES) instead of fetching the real one.
5. Headless Chromium renders the certificate module's page to build/release/certificate_module.png,
   and the page must hold a row for every option the module documents.

Runs with build/docs-venv's Python (requirements/docs.txt); everything lands in build/release/.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import zlib

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "release")
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(OUT, "collections")
DOCS = os.path.join(OUT, "docs")
ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
# The labels of Ansible's own docs that the generated pages link to: label -> (page, title).
REFERENCES = {
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values",
                             "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings",
                                       "Ansible Configuration Settings"),
    **{f"ansible_collections.ansible.builtin.{name}_module": (
        f"collections/ansible/builtin/{name}_module.html#ansible-collections-ansible-builtin-{name}-module",
        f"ansible.builtin.{name} module") for name in ("copy", "file", "slurp", "stat", "template")},
}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def run(*command: str, cwd: str = ROOT, env: dict | None = None, stdout_only: bool = False) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"release: {' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout if stdout_only else done.stdout + done.stderr


def plain(text: str) -> str:
    """ansible-doc's text without its emphasis: terminal bold, or *word* with ANSIBLE_NOCOLOR."""
    return re.sub(r"\x1b\[[0-9;]*m|(?<=\s)\*(?=\w)|(?<=\w)\*(?=\s)", "", text)


def tool(name: str) -> str:
    return os.path.join(BIN, name)


def changelog(version: str, env: dict) -> None:
    """The release's new plugins are found with ansible-doc, on the checkout (build/collections)."""
    with open(os.path.join(ROOT, "changelogs", "changelog.yaml"), encoding="utf-8") as f:
        releases = (yaml.safe_load(f) or {}).get("releases") or {}
    if version not in releases:
        print(f"release: antsibull-changelog release {version}")
        run(tool("antsibull-changelog"), "release", "--version", version, env=env)
    run(tool("antsibull-changelog"), "lint", env=env)
    with open(os.path.join(ROOT, "CHANGELOG.rst"), encoding="utf-8") as f:
        if f"v{version}\n" not in f.read():
            sys.exit(f"release: CHANGELOG.rst has no section for v{version}")


def build_and_install(version: str, env: dict) -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(COLLECTIONS)
    run(tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", OUT, ".", env=env)
    tarball = os.path.join(OUT, f"zerodowntime-acme-{version}.tar.gz")
    run(tool("ansible-galaxy"), "collection", "install", "--offline", "-p", COLLECTIONS, tarball, env=env)
    print(f"release: {os.path.relpath(tarball, ROOT)} installs into an empty collections path")


def ansible_doc(env: dict) -> None:
    rendered = []
    # Where each kind's documentation lives: filters are documented in YAML next to their code.
    for kind, pattern in (("module", "modules/*.py"), ("filter", "filter/*.yml"), ("lookup", "lookup/*.py")):
        # stdout only: a library's warning on stderr is no part of the list.
        listed = json.loads(run(tool("ansible-doc"), "-t", kind, "--list", "--json", "zerodowntime.acme", env=env,
                                stdout_only=True))
        expected = {"zerodowntime.acme." + os.path.splitext(os.path.basename(p))[0]
                    for p in glob.glob(os.path.join(ROOT, "plugins", pattern))}
        if set(listed) != expected:
            sys.exit(f"release: ansible-doc lists {sorted(listed)} as {kind}s, the source has {sorted(expected)}")
        for name in sorted(listed):
            text = plain(run(tool("ansible-doc"), "-t", kind, name, env=env))
            if kind == "module" and "OPTIONS" not in text.upper():
                sys.exit(f"release: ansible-doc {name} shows no options")
            rendered.append(name)
    for role in sorted(os.listdir(os.path.join(ROOT, "roles"))):
        text = plain(run(tool("ansible-doc"), "-t", "role", f"zerodowntime.acme.{role}", env=env))
        if "ENTRY POINT: main" not in text or "OPTIONS" not in text.upper():
            sys.exit(f"release: ansible-doc -t role zerodowntime.acme.{role} shows no argument spec")
        rendered.append(f"zerodowntime.acme.{role} (role)")
    print(f"release: ansible-doc renders {len(rendered)}: {', '.join(rendered)}")


def write_inventory(path: str) -> None:
    """A Sphinx inventory (objects.inv, version 2) of the labels in REFERENCES."""
    lines = [f"{label} std:label -1 {page} {title}\n" for label, (page, title) in sorted(REFERENCES.items())]
    header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n# The remainder is zlib.\n"
    with open(path, "wb") as f:
        f.write(header.encode() + zlib.compress("".join(lines).encode()))


def html_docs(env: dict) -> None:
    os.makedirs(DOCS, mode=0o700)
    run(tool("antsibull-docs"), "sphinx-init", "--use-current", "--squash-hierarchy", "--fail-on-error",
        "--dest-dir", DOCS, "zerodowntime.acme", env=env)
    inventory = os.path.join(DOCS, "ansible-devel.inv")
    write_inventory(inventory)
    with open(os.path.join(DOCS, "conf.py"), "a", encoding="utf-8") as f:
        f.write(f"\n# make release: no network; links to Ansible's docs resolve through a local inventory.\n"
                f"intersphinx_mapping = {{'ansible_devel': ({ANSIBLE_DOCS!r}, {inventory!r})}}\n")
    rst = os.path.join(DOCS, "rst")
    os.chmod(rst, 0o755)  # made by sphinx-init; antsibull-docs wants it writable by its owner only
    run(tool("antsibull-docs"), "--config-file", "antsibull-docs.cfg", "collection", "--cleanup", "everything",
        "--fail-on-error", "--use-current", "--squash-hierarchy", "--dest-dir", rst, "zerodowntime.acme",
        cwd=DOCS, env=env)
    output = run(tool("sphinx-build"), "-M", "html", rst, os.path.join(DOCS, "build"), "-c", DOCS, "-W",
                 "--keep-going", "-q", cwd=DOCS, env=env)
    if "WARNING" in output:
        sys.exit(f"release: Sphinx warned:\n{output}")
    print(f"release: HTML docs in {os.path.relpath(os.path.join(DOCS, 'build', 'html'), ROOT)}, no warnings")


def module_page(env: dict) -> None:
    page = os.path.join(DOCS, "build", "html", "certificate_module.html")
    with open(page, encoding="utf-8") as f:
        html = f.read()
    options = json.loads(run(tool("ansible-doc"), "--json", "-t", "module", "zerodowntime.acme.certificate",
                             env=env, stdout_only=True))["zerodowntime.acme.certificate"]["doc"]["options"]
    missing = [o for o in options if f'id="parameter-{o}"' not in html]
    if missing:
        sys.exit(f"release: certificate_module.html has no row for {', '.join(missing)}")
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("release: chromium is missing (Debian's chromium package; `make release` installs it)")
    screenshot = os.path.join(OUT, "certificate_module.png")
    profile = os.path.join(OUT, "chromium-profile")
    run(chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,2600",
        f"--screenshot={screenshot}", f"file://{page}")
    shutil.rmtree(profile, ignore_errors=True)
    with open(screenshot, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            sys.exit(f"release: {screenshot} is not a PNG")
    print(f"release: {len(options)} options in the module page's table; screenshot "
          f"{os.path.relpath(screenshot, ROOT)}")


def main() -> None:
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as f:
        version = str(yaml.safe_load(f)["version"])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOME=os.path.join(OUT, "ansible"),
               ANSIBLE_NOCOLOR="1", PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    changelog(version, dict(env, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collections")))
    build_and_install(version, env)
    ansible_doc(env)
    html_docs(env)
    module_page(env)


if __name__ == "__main__":
    main()
