# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may read the private key, and combined.pem (certificate, certificate_install)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  key_owner:
    description:
      - The user who owns the files that hold the private key (C(privkey.pem), and C(combined.pem)), by
        name or number. The default leaves them to the user who runs the module (root on a host).
      - The user must exist on the host; the task fails before anything is ordered when it does not.
    type: str
  key_group:
    description:
      - The group of the files that hold the private key, for services that do not start as root,
        for example C(ssl-cert) with O(key_mode=0640). The default leaves it to the running user's.
      - The group must exist on the host; the task fails before anything is ordered when it does not.
    type: str
  key_mode:
    description:
      - The mode of the files that hold the private key, as a quoted octal string. Only read and
        write bits for owner and group; a mode that lets every user read the key is refused.
      - Owner, group and mode are given to a new version before the swap, to the kept versions as
        well, and put back on every run when they drifted; a run that only does that reports
        C(changed) and lists it in RV(repaired).
    type: str
    default: "0600"
  combined:
    description:
      - Also write C(combined.pem) in the lineage, with the key, the certificate and the chain in
        that order, for servers that want them in one file (haproxy's C(crt), lighttpd's
        C(ssl.pemfile), ZNC). It has the key's owner, group and mode and is swapped with the rest.
      - Turning it on writes it from the version in place, without a renewal; turning it off
        removes it.
    type: bool
    default: false
"""
