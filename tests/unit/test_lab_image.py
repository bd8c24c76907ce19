"""The image recipe hash is stable and moves with every input."""

import json
from pathlib import Path

from lab import image


def test_hash_is_stable() -> None:
    assert image.recipe_hash() == image.recipe_hash()
    assert image.recipe_hash(image.recipe()) == image.recipe_hash()
    assert len(image.recipe_hash()) == 16


def test_hash_ignores_key_order() -> None:
    rec = image.recipe()
    shuffled = json.loads(json.dumps(dict(reversed(list(rec.items())))))
    assert image.recipe_hash(shuffled) == image.recipe_hash(rec)


def test_hash_moves_with_packages_builder_and_files(tmp_path: Path) -> None:
    base = image.recipe()
    more = dict(base, packages=[*base["packages"], "vim"])
    newer = dict(base, builder="999")
    assert len({image.recipe_hash(base), image.recipe_hash(more),
                image.recipe_hash(newer)}) == 3
    for name in image.IMAGE_FILES:
        (tmp_path / name).write_bytes((image.config.FILES_DIR / name).read_bytes())
    assert image.recipe_hash(image.recipe(tmp_path)) == image.recipe_hash(base)
    (tmp_path / "halab-firstboot").write_text("#!/bin/sh\nchanged\n")
    assert image.recipe_hash(image.recipe(tmp_path)) != image.recipe_hash(base)


def test_required_packages() -> None:
    for pkg in ("linux-image-amd64", "drbd-utils", "heartbeat", "samba",
                "libvirt-daemon-system", "openssh-server", "python3"):
        assert pkg in image.PACKAGES


def test_both_managers_packages_and_no_watchdog_daemon() -> None:
    # one image for Heartbeat and Pacemaker (+ SBD fencing): a migration needs no network
    for pkg in ("heartbeat", "corosync", "pacemaker", "pacemaker-cli-utils", "crmsh", "sbd",
                "fence-agents"):
        assert pkg in image.PACKAGES
    # sbd owns /dev/watchdog: the `watchdog` daemon would hold it first
    assert "watchdog" not in image.PACKAGES


def test_customize_keeps_pacemaker_stack_off_and_one_watchdog() -> None:
    script = (image.config.FILES_DIR / "customize.sh").read_text()
    # the loop that disables them: its header names the three units
    loop = next(line for line in script.splitlines() if line.startswith("for unit in corosync"))
    assert loop.replace(";", " ").split()[3:6] == [
        "corosync.service", "pacemaker.service", "sbd.service"]
    assert 'systemctl disable "$unit"' in script
    assert "i6300esb" in script and "blacklist iTCO_wdt" in script


def test_hosts_names_both_nodes() -> None:
    hosts = image.render_hosts()
    assert "192.168.1.1\tnode1" in hosts and "192.168.1.2\tnode2" in hosts


def test_host_mirrors_deb822(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: https://other.example/apt\nSuites: stable\n")
    assert image.host_mirrors(tmp_path) == [
        "deb http://mirror.example/debian bookworm main",
        "deb http://mirror.example/debian bookworm-updates main",
    ]


def test_host_mirrors_fallback(tmp_path: Path) -> None:
    assert image.host_mirrors(tmp_path) == ["deb http://deb.debian.org/debian bookworm main"]
