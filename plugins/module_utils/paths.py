# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the engine keeps its files on a managed host, when a front names no other place: the
configuration folder (the CLI's settings, the certificates' descriptions, the account keys, the
pool's state) and, inside it, the certificates."""

from __future__ import annotations

CONFIG_DIR = "/etc/zerodowntime-acme"
DEFAULT_CERT_DIR = CONFIG_DIR + "/live"
ACCOUNTS_DIR = CONFIG_DIR + "/accounts"
