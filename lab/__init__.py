"""Embedded two-VM lab: two Debian 12 QEMU nodes in a private network namespace."""

__version__ = "1"
