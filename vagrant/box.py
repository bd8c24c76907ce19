"""Build the `ha-debian12` vagrant-libvirt box locally from Debian packages.

Vagrant Cloud is out of reach from many sites (and from the machine this was made on), so
the box is made from the embedded lab's node image (``lab.image``: mmdebstrap, cached under
/var/cache/ha-lab). The lab image is not copied or changed: a copy of its qcow2 is
customised for Vagrant, then packed with the lab's kernel and initrd:

- root logs in with a key generated for the box (``vagrant_key``, shipped in the box; the
  box's Vagrantfile points ``config.ssh.private_key_path`` at it); no password anywhere;
- systemd-networkd: the cluster NIC, found by its MAC (vagrant/nodes.yaml), gets its static
  address; any other NIC (Vagrant's management network) asks DHCP;
- the kernel boots directly (the lab image has no boot loader): the box's Vagrantfile sets
  ``libvirt.kernel``/``initrd``/``cmd_line``; the project's Vagrantfile adds the host name.

Usage (root: loop mount): ``python -m vagrant.box [--out vagrant/ha-debian12.box]``, then
``vagrant box add --name ha-debian12 vagrant/ha-debian12.box``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
NODES_FILE = HERE / "nodes.yaml"
DEFAULT_OUT = HERE / "ha-debian12.box"
BOX_NAME = "ha-debian12"
BASE_CMDLINE = "root=/dev/vda rw console=ttyS0,115200 net.ifnames=0 biosdevname=0 panic=-1"


class BoxError(Exception):
    """The box cannot be built; one line."""


def box_vagrantfile() -> str:
    """The Vagrantfile inside the box: direct kernel boot and root login by the box key."""
    return f"""# Vagrantfile of the {BOX_NAME} box (made by vagrant/box.py).
Vagrant.configure("2") do |config|
  config.ssh.username = "root"
  config.ssh.private_key_path = File.expand_path("vagrant_key", __dir__)
  config.ssh.insert_key = false
  config.ssh.sudo_command = "%c"
  config.vm.synced_folder ".", "/vagrant", disabled: true
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.expand_path("vmlinuz", __dir__)
    lv.initrd = File.expand_path("initrd.img", __dir__)
    lv.cmd_line = "{BASE_CMDLINE}"
    lv.disk_bus = "virtio"
  end
end
"""


def networkd_files(nodes_file: Path = NODES_FILE) -> dict[str, str]:
    """systemd-networkd units: static cluster address by MAC, DHCP on anything else.

    The cluster address stays when the carrier goes (a pulled cable), as an ifupdown
    ``static`` stanza keeps it: networkd would drop it, and DRBD, unable to bind its
    address, gives up and stays StandAlone ("bind before listen failed, err = -99").
    """
    spec = yaml.safe_load(nodes_file.read_text())
    prefix = spec["network"]["netmask"]
    files = {}
    for node in spec["nodes"]:
        files[f"10-ha-{node['name']}.network"] = (
            f"# {node['name']}'s cluster NIC (vagrant/nodes.yaml)\n"
            f"[Match]\nMACAddress={node['mac']}\n\n"
            f"[Network]\nAddress={node['ip']}/{prefix}\nLinkLocalAddressing=no\n"
            "IPv6AcceptRA=no\nConfigureWithoutCarrier=yes\nIgnoreCarrierLoss=yes\n\n"
            "[Link]\nRequiredForOnline=no\n"
        )
    files["90-ha-mgmt.network"] = (
        "# Vagrant's management network: DHCP on any other NIC\n"
        "[Match]\nName=eth* en*\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\n"
        "IPv6AcceptRA=no\n\n[Link]\nRequiredForOnline=no\n"
    )
    return files


def metadata(virtual_size_bytes: int) -> dict[str, object]:
    """metadata.json of a vagrant-libvirt box (virtual_size in GiB, rounded up)."""
    return {
        "provider": "libvirt",
        "format": "qcow2",
        "virtual_size": max(1, math.ceil(virtual_size_bytes / 1024**3)),
    }


def _run(cmd: list[str], what: str) -> str:
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        detail = (res.stderr or res.stdout).strip().splitlines()
        raise BoxError(f"{what} failed (exit {res.returncode}): {detail[-1] if detail else ''}")
    return res.stdout


def customise(root: Path, pubkey: str) -> None:
    """Apply the Vagrant changes to a mounted copy of the lab image."""
    ssh = root / "root/.ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    keys = ssh / "authorized_keys"
    old = keys.read_text() if keys.exists() else ""
    keys.write_text(old + pubkey.strip() + "\n")
    keys.chmod(0o600)
    netd = root / "etc/systemd/network"
    netd.mkdir(parents=True, exist_ok=True)
    for name, text in networkd_files().items():
        (netd / name).write_text(text)
    # systemctl enable systemd-networkd, by hand (no chroot needed)
    wants = {
        "multi-user.target.wants": "systemd-networkd.service",
        "sockets.target.wants": "systemd-networkd.socket",
        "network-online.target.wants": "systemd-networkd-wait-online.service",
    }
    for target, unit in wants.items():
        d = root / "etc/systemd/system" / target
        d.mkdir(parents=True, exist_ok=True)
        link = d / unit
        if not link.is_symlink():
            link.symlink_to(f"/lib/systemd/system/{unit}")
    # wait-online must not hold the boot for the never-configured NICs
    drop = root / "etc/systemd/system/systemd-networkd-wait-online.service.d"
    drop.mkdir(parents=True, exist_ok=True)
    (drop / "ha-vagrant.conf").write_text(
        "[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any "
        "--timeout=30\n"
    )


def build(out: Path, progress=print) -> Path:
    """Build (or reuse) the lab image, customise a copy, pack the box into ``out``."""
    from lab import image as labimage  # the lab's builder: reused, not copied

    t0 = time.monotonic()
    img = labimage.build(labimage.current_image(), progress)
    progress(f"lab image {img.recipe_hash} ready ({time.monotonic() - t0:.0f} s)")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ha-box-", dir=out.parent) as tmp:
        work = Path(tmp)
        raw, mnt = work / "root.raw", work / "mnt"
        _run(["qemu-img", "convert", "-O", "raw", str(img.base), str(raw)], "qemu-img convert")
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ha-vagrant", "-f",
              str(work / "vagrant_key")], "ssh-keygen")
        mnt.mkdir()
        _run(["mount", "-o", "loop", str(raw), str(mnt)], "mount -o loop (needs root)")
        try:
            customise(mnt, (work / "vagrant_key.pub").read_text())
        finally:
            _run(["umount", str(mnt)], "umount")
        _run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(work / "box.img")],
             "qemu-img convert")
        meta = metadata(raw.stat().st_size)
        raw.unlink()
        (work / "metadata.json").write_text(json.dumps(meta) + "\n")
        (work / "Vagrantfile").write_text(box_vagrantfile())
        shutil.copy2(img.kernel, work / "vmlinuz")
        shutil.copy2(img.initrd, work / "initrd.img")
        part = out.with_suffix(".box.part")
        with tarfile.open(part, "w") as tar:
            for name in ("metadata.json", "Vagrantfile", "box.img", "vmlinuz", "initrd.img",
                         "vagrant_key", "vagrant_key.pub"):
                tar.add(work / name, arcname=name)
        part.rename(out)
    progress(f"box {out} built in {time.monotonic() - t0:.0f} s; add it with: "
             f"vagrant box add --force --name {BOX_NAME} {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vagrant.box", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="box file to write")
    args = ap.parse_args(argv)
    try:
        build(args.out, lambda msg: print(f"box: {msg}", flush=True))
    except Exception as exc:  # one line, like the lab's CLI
        print(f"box: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
