"""Two Debian 12 nodes with Vagrant: the box builder and the inventory writer."""
