"""Test infrastructure on loopback: Pebble with challtestsrv, nginx on 127.0.0.x, /etc/hosts lines.

Used by the integration tests, the demo and the benchmarks. Nothing here is shipped.
"""
