#!/usr/bin/python
# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_files
short_description: The roles' folders and small files on a host, in one call
version_added: 0.1.0
description:
  - Creates folders, writes small text files, removes what must go, and reports what the next tasks
    need to know (a file's SHA-256, the files a folder holds, the Debian packages that are missing),
    all in one call to the host. Writes only what differs.
  - A fleet pays a play per host per task. The roles of this collection use it so that a run with
    nothing to do costs few round trips to each host, where one M(ansible.builtin.file) or
    M(ansible.builtin.copy) task per file would cost one or two each.
  - Every file and folder is owned by root (when the module runs as root) with the given mode,
    whatever the umask. A file is replaced in one rename under a random name, so a reader sees
    the old file or the new one, and a link planted at its path is replaced, never followed.
author:
  - zerodowntime.acme developers (@zerodowntime)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports the paths it would change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: RV(changed_paths) lists what changed; the contents are the role's own templates.
options:
  directories:
    description: Folders to create (with their parents) and hold at a mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The folder.
        type: path
        required: true
      mode:
        description: Its mode, in octal.
        type: str
        default: "0755"
      create_only:
        description:
          - Only create it when it is missing; an existing one (or a link to one) keeps its owner
            and mode.
        type: bool
        default: false
      link_if_root:
        description:
          - Without it, a link at O(directories[].path) fails the task. The folder is opened without
            following links, so that a link planted there cannot make root change another folder.
          - With it, such a link is followed, but only when root owns it and every folder above it
            and no one else may write to them (a cert_dir moved to a bigger disk by its admin).
        type: bool
        default: false
  files:
    description: Text files and their contents.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file. Its folder must exist (list it in O(directories)).
        type: path
        required: true
      content:
        description: The whole content.
        type: str
        required: true
      mode:
        description: Its mode, in octal.
        type: str
        default: "0644"
  absent:
    description: Files or folders (with all they hold) to remove.
    type: list
    elements: path
    default: []
  entries:
    description:
      - In each folder, the entries whose names match O(entries[].pattern) and are not kept. They are
        removed when O(entries[].remove) is true, and reported in RV(found) otherwise.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The folder. A missing one has no entries.
        type: path
        required: true
      pattern:
        description: A shell pattern for the entries' names.
        type: str
        required: true
      keep:
        description: Names to keep (and leave out of RV(found)).
        type: list
        elements: str
        default: []
      remove:
        description: Remove them, rather than only report them.
        type: bool
        default: false
  lines:
    description:
      - In each file, remove the lines that hold O(lines[].containing), except those that also hold
        O(lines[].except_containing). The file keeps its owner and mode; a missing one has no lines,
        and a link is never followed.
      - The roles remove the push keys of a pool's former issuers from C(authorized_keys) so.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      containing:
        description: The text that marks the lines to remove.
        type: str
        required: true
      except_containing:
        description: The text that marks, among those, the lines to keep.
        type: str
  stat:
    description: Paths to report on (in RV(stat)), after the changes above.
    type: list
    elements: path
    default: []
  packages:
    description:
      - Debian packages to look up in dpkg's status file; those not installed are reported in
        RV(missing_packages). Without dpkg, all are.
    type: list
    elements: str
    default: []
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: The CLI's configuration, and what the next tasks need to know
  zerodowntime.acme.host_files:
    directories:
      - {path: /etc/zerodowntime-acme, mode: "0700"}
      - {path: /var/www/well-known, create_only: true}
    files:
      - path: /etc/zerodowntime-acme/renew.json
        content: "{{ commands | to_nice_json }}\n"
    entries:
      - {path: /etc/zerodowntime-acme/certificates, pattern: "*.json", keep: [www.json], remove: true}
    stat: [/usr/local/sbin/zerodowntime-acme]
    packages: [python3-acme, python3-cryptography]
  register: host

- name: Install the libraries only when one is missing
  ansible.builtin.apt:
    name: "{{ host.missing_packages }}"
  when: host.missing_packages | length > 0
"""

RETURN = r"""
changed_paths:
  description: The folders and files created, changed or removed (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [/etc/zerodowntime-acme/renew.json]
stat:
  description: For each path of O(stat), whether it exists and, for a regular file, its SHA-256.
  returned: always
  type: dict
  sample: {"/usr/local/sbin/zerodowntime-acme": {"exists": true, "sha256": "9f86d0..."}}
found:
  description: For each folder of O(entries) not to remove, the paths of the entries that match.
  returned: always
  type: dict
  sample: {"/etc/nginx/snippets": ["/etc/nginx/snippets/zerodowntime-acme-old.conf"]}
missing_packages:
  description: The packages of O(packages) that are not installed.
  returned: always
  type: list
  elements: str
  sample: []
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AcmeError
from ansible_collections.zerodowntime.acme.plugins.module_utils.hostfiles import Plan, ensure

ARGUMENT_SPEC = dict(
    directories=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="path", required=True), mode=dict(type="str", default="0755"),
        create_only=dict(type="bool", default=False), link_if_root=dict(type="bool", default=False))),
    files=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="path", required=True), content=dict(type="str", required=True),
        mode=dict(type="str", default="0644"))),
    lines=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="path", required=True), containing=dict(type="str", required=True),
        except_containing=dict(type="str"))),
    absent=dict(type="list", elements="path", default=[]),
    entries=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="path", required=True), pattern=dict(type="str", required=True),
        keep=dict(type="list", elements="str", default=[]), remove=dict(type="bool", default=False))),
    stat=dict(type="list", elements="path", default=[]),
    packages=dict(type="list", elements="str", default=[]),
)
MODE = re.compile(r"0?[0-7]{3}")


def _mode(module: AnsibleModule, entry: dict) -> dict:
    if not MODE.fullmatch(entry["mode"]):
        module.fail_json(msg=f"{entry['path']}: mode must be octal such as \"0644\", not {entry['mode']!r}")
    return dict(entry, mode=int(entry["mode"], 8))


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    plan = Plan(directories=[_mode(module, d) for d in params["directories"]],
                files=[_mode(module, f) for f in params["files"]], lines=params["lines"], absent=params["absent"],
                entries=params["entries"], stat=params["stat"], packages=params["packages"])
    try:
        outcome = ensure(plan, check_mode=module.check_mode)
    except (AcmeError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=bool(outcome.changed), changed_paths=outcome.changed, stat=outcome.stat,
                     found=outcome.found, missing_packages=outcome.missing_packages)


if __name__ == "__main__":
    main()
