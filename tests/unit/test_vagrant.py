"""vagrant/: the inventory writer (recorded ssh-config → suite inventory), the box recipe,
and the Vagrantfile's syntax."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fixtures.access.fault_hooks import DISK, HOOKS
from fixtures.access.inventory import load
from lab import calibrate
from vagrant import box
from vagrant import inventory as vinv

ROOT = Path(__file__).resolve().parents[2]

# Recorded `vagrant ssh-config` of the two nodes (libvirt provider, management network).
SSH_CONFIG_LIBVIRT = """\
Host node1
  HostName 192.168.121.23
  User root
  Port 22
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile {key}
  IdentitiesOnly yes
  LogLevel FATAL

Host node2
  HostName 192.168.121.87
  User root
  Port 22
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile "{key}"
  IdentitiesOnly yes
  LogLevel FATAL
"""

# VirtualBox: SSH through a forwarded port on 127.0.0.1, Vagrant's generated per-machine key.
SSH_CONFIG_VBOX = """\
Host node1
  HostName 127.0.0.1
  User vagrant
  Port 2222
  IdentityFile {key}

Host node2
  HostName 127.0.0.1
  User vagrant
  Port 2200
  IdentityFile {key}
"""


HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGEDSNdmYKWrgOcxN/JjN4DCgYtpQWb51ZGLKwFpzi3n"


@pytest.fixture
def key(tmp_path: Path) -> Path:
    k = tmp_path / "private_key"
    k.write_text("not a real key\n")
    return k


def _write_and_load(inv: dict, tmp_path: Path):
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return load(path)


def _machine_ids(vagrant_dir: Path, provider: str) -> None:
    for name, uid in (("node1", "uuid-1"), ("node2", "uuid-2")):
        d = vagrant_dir / ".vagrant" / "machines" / name / provider
        d.mkdir(parents=True)
        (d / "id").write_text(uid + "\n")


def test_libvirt_inventory_is_accepted_by_the_suite(tmp_path, key):
    _machine_ids(tmp_path, "libvirt")
    inv = vinv.build_inventory(SSH_CONFIG_LIBVIRT.format(key=key), "libvirt",
                               vagrant_dir=tmp_path, netns="havagrant", budget_scale=2.0)
    loaded = _write_and_load(inv, tmp_path)
    assert loaded.cluster == "vagrant" and loaded.disposable and loaded.provision
    assert loaded.netns == "havagrant" and loaded.budgets.scale == 2.0
    n1, n2 = loaded.nodes
    assert (n1.name, n1.address, n2.name, n2.address) == (
        "node1", "192.168.1.1", "node2", "192.168.1.2")
    assert loaded.primary.name == "node1"
    # the private-network address on port 22 as root, never the management address
    assert n1.ssh.user == "root" and n1.ssh.port == 22 and n1.ssh.key == key
    assert n1.disk == "/dev/vdb" and n1.interface == "eth1" and n1.serial == "/dev/ttyS1"
    assert loaded.network.virtual_ip == "192.168.1.3"
    assert loaded.network.ping_node == "192.168.1.254"
    assert loaded.network.time_server == "192.168.1.254"  # served in the namespace
    f = n1.faults
    assert f.power_off == "virsh -c qemu:///system destroy uuid-1"
    assert f.power_on == "virsh -c qemu:///system start uuid-1"
    assert f.link_down == "virsh -c qemu:///system domif-setlink uuid-1 52:54:00:00:01:01 down"
    assert f.link_up == "virsh -c qemu:///system domif-setlink uuid-1 52:54:00:00:01:01 up"
    assert n2.faults.power_off.endswith("destroy uuid-2")
    assert tuple(inv["nodes"][0]["faults"]) == HOOKS  # every hook of the vocabulary
    # no provider command fails a running guest's disk: DRBD-05 is not run on Vagrant
    assert all(getattr(n1.faults, hook) is None for hook in DISK.hooks)
    assert "52:54:00:00:01:02" in n2.faults.link_down


def test_virtualbox_inventory_has_vboxmanage_hooks(tmp_path, key):
    _machine_ids(tmp_path, "virtualbox")
    inv = vinv.build_inventory(SSH_CONFIG_VBOX.format(key=key), "virtualbox",
                               vagrant_dir=tmp_path)
    loaded = _write_and_load(inv, tmp_path)
    n1, n2 = loaded.nodes
    assert n1.disk == "/dev/sdb" and n1.ssh.port == 22 and n1.address == "192.168.1.1"
    assert loaded.netns is None and loaded.budgets.scale == 1.0
    assert n1.faults.power_off == "VBoxManage controlvm uuid-1 poweroff"
    assert n1.faults.power_on == "VBoxManage startvm uuid-1 --type headless"
    assert n1.faults.link_down == "VBoxManage controlvm uuid-1 setlinkstate2 off"
    assert n2.faults.link_up == "VBoxManage controlvm uuid-2 setlinkstate2 on"
    assert tuple(inv["nodes"][1]["faults"]) == HOOKS
    assert all(getattr(n2.faults, hook) is None for hook in DISK.hooks)


def test_hooks_fall_back_to_vm_names_before_up(tmp_path, key):
    inv = vinv.build_inventory(SSH_CONFIG_LIBVIRT.format(key=key), "libvirt",
                               vagrant_dir=tmp_path)
    assert inv["nodes"][0]["faults"]["power_off"].endswith("destroy ha-vagrant-node1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no 'Host' entry"),
        ("HostName 1.2.3.4\n", "line 1: 'HostName' before any 'Host' line"),
        ("Host node1\n  IdentityFile /k\n", "no 'Host node2' entry"),
        ("Host node1\n  HostName x\nHost node2\n  IdentityFile /k\n", "node1 has no IdentityFile"),
        ("Host node1\n  IdentityFile\n", "line 2: no value"),
    ],
)
def test_bad_ssh_config_gives_one_clear_line(text, message):
    with pytest.raises(vinv.VagrantInventoryError) as exc:
        vinv.build_inventory(text, "libvirt")
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_unknown_provider_is_refused(key):
    with pytest.raises(vinv.VagrantInventoryError, match="unknown provider 'vmware'"):
        vinv.build_inventory(SSH_CONFIG_LIBVIRT.format(key=key), "vmware")


def test_cli_writes_a_loadable_inventory(tmp_path, key, capsys, monkeypatch):
    cfg = tmp_path / "ssh-config"
    cfg.write_text(SSH_CONFIG_LIBVIRT.format(key=key))
    out = tmp_path / "inv.yaml"
    monkeypatch.delenv("HA_VAGRANT_DRIVER", raising=False)
    rc = vinv.main(["--out", str(out), "--provider", "libvirt", "--ssh-config", str(cfg),
                    "--budget-scale", "2", "--host-key", f"node1={HOST_KEY}",
                    "--host-key", f"node2={HOST_KEY} root@node2"])
    assert rc == 0
    inv = load(out)
    assert inv.nodes[1].address == "192.168.1.2"
    assert [n.ssh.host_key for n in inv.nodes] == [HOST_KEY, HOST_KEY]
    assert "wrote" in capsys.readouterr().out


def test_host_keys_given_are_pinned_and_none_scanned_without_them(tmp_path, key):
    inv = vinv.build_inventory(SSH_CONFIG_LIBVIRT.format(key=key), "libvirt",
                               vagrant_dir=tmp_path, host_keys={"node1": HOST_KEY})
    assert inv["nodes"][0]["ssh"]["host_key"] == HOST_KEY
    assert "host_key" not in inv["nodes"][1]["ssh"]


def test_no_host_keys_writes_no_pin(tmp_path, key, capsys):
    cfg = tmp_path / "ssh-config"
    cfg.write_text(SSH_CONFIG_LIBVIRT.format(key=key))
    out = tmp_path / "inv.yaml"
    assert vinv.main(["--out", str(out), "--provider", "libvirt", "--ssh-config", str(cfg),
                      "--no-host-keys", "--no-calibration"]) == 0
    assert all(n.ssh.host_key is None for n in load(out).nodes)


@pytest.mark.parametrize("value", ["node1", "node3=ssh-ed25519 AAAA", "node1=onlyoneword"])
def test_bad_host_key_argument_is_one_line(tmp_path, key, capsys, value):
    cfg = tmp_path / "ssh-config"
    cfg.write_text(SSH_CONFIG_LIBVIRT.format(key=key))
    rc = vinv.main(["--out", str(tmp_path / "x.yaml"), "--provider", "libvirt",
                    "--ssh-config", str(cfg), "--host-key", value])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("vagrant.inventory: error: --host-key") and (
        err.count("\n") == 1)


def test_cli_error_is_one_line(tmp_path, capsys):
    cfg = tmp_path / "ssh-config"
    cfg.write_text("garbage\n")
    rc = vinv.main(["--out", str(tmp_path / "x.yaml"), "--provider", "libvirt",
                    "--ssh-config", str(cfg)])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("vagrant.inventory: error: ") and err.count("\n") == 1
    assert not (tmp_path / "x.yaml").exists()


def test_provider_detected_from_machine_ids(tmp_path, monkeypatch):
    monkeypatch.delenv("VAGRANT_DEFAULT_PROVIDER", raising=False)
    _machine_ids(tmp_path, "virtualbox")
    assert vinv.detect_provider(tmp_path, ["node1", "node2"]) == "virtualbox"
    with pytest.raises(vinv.VagrantInventoryError, match="give --provider"):
        vinv.detect_provider(tmp_path / "empty", ["node1", "node2"])


def test_box_metadata_and_network_units():
    assert box.metadata(4 * 1024**3) == {"provider": "libvirt", "format": "qcow2",
                                         "virtual_size": 4}
    assert box.metadata(4 * 1024**3 + 1)["virtual_size"] == 5
    units = box.networkd_files()
    assert "MACAddress=52:54:00:00:01:01" in units["10-ha-node1.network"]
    assert "Address=192.168.1.1/24" in units["10-ha-node1.network"]
    assert "Address=192.168.1.2/24" in units["10-ha-node2.network"]
    # a pulled cable must not take the address away (DRBD would go StandAlone)
    assert "IgnoreCarrierLoss=yes" in units["10-ha-node1.network"]
    assert "DHCP=ipv4" in units["90-ha-mgmt.network"]
    vf = box.box_vagrantfile()
    assert 'config.ssh.username = "root"' in vf and "vmlinuz" in vf


def test_box_customise_on_a_tree(tmp_path):
    (tmp_path / "root/.ssh").mkdir(parents=True)
    (tmp_path / "root/.ssh/authorized_keys").write_text("ssh-ed25519 AAAA lab\n")
    box.customise(tmp_path, "ssh-ed25519 BBBB box\n")
    keys = (tmp_path / "root/.ssh/authorized_keys").read_text().splitlines()
    assert keys == ["ssh-ed25519 AAAA lab", "ssh-ed25519 BBBB box"]
    link = tmp_path / "etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
    assert link.is_symlink()
    assert (tmp_path / "etc/systemd/network/90-ha-mgmt.network").exists()


def test_vagrantfile_parses():
    ruby = shutil.which("ruby")
    if ruby is None:
        pytest.skip("ruby is not installed: cannot check the Vagrantfile's syntax (ruby -c)")
    res = subprocess.run([ruby, "-c", str(ROOT / "vagrant/Vagrantfile")],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert "Syntax OK" in res.stdout


def test_vagrantfile_and_writer_share_nodes_yaml():
    text = (ROOT / "vagrant/Vagrantfile").read_text()
    assert "nodes.yaml" in text
    spec = vinv.load_nodes()
    assert [n["ip"] for n in spec["nodes"]] == ["192.168.1.1", "192.168.1.2"]
    assert spec["network"]["virtual_ip"] == "192.168.1.3"


def test_libvirt_netns_names_the_qemu_conf_settings_it_lacks():
    from vagrant.libvirt_netns import qemu_conf_problems

    ok = 'user = "root"\ngroup = "root"\nsecurity_driver = "none"\n'
    assert qemu_conf_problems(ok) == []
    assert qemu_conf_problems('#user = "root"\ngroup = "root"\n') == [
        'user = "root"', 'security_driver = "none"']


def test_libvirt_netns_bad_action_is_one_line(capsys):
    from vagrant.libvirt_netns import main

    with pytest.raises(SystemExit) as exc:
        main(["sideways"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cable_sockets_are_the_ones_the_vagrantfile_names():
    from vagrant.cable import sockets

    ends = sockets(Path("/run/x"))
    assert ends == (Path("/run/x/ha-cable-node1.sock"), Path("/run/x/ha-cable-node2.sock"))
    vagrantfile = (ROOT / "vagrant" / "Vagrantfile").read_text()
    assert "ha-cable-#{name}.sock,reconnect=1" in vagrantfile


def test_a_scale_given_by_hand_is_recorded_as_such(tmp_path, key):
    cfg = tmp_path / "ssh-config"
    cfg.write_text(SSH_CONFIG_LIBVIRT.format(key=key))
    out = tmp_path / "inv.yaml"
    assert vinv.main(["--out", str(out), "--provider", "libvirt", "--ssh-config", str(cfg),
                      "--no-host-keys", "--budget-scale", "3"]) == 0
    budgets = load(out).budgets
    assert budgets.scale == 3.0 and budgets.calibration.method == "--budget-scale 3 given by hand"


def test_measured_budgets_come_from_the_nodes_workload(key, monkeypatch):
    """The calibration's runners are the nodes' SSH; here they answer like a slow TCG node."""
    inv = vinv.build_inventory(SSH_CONFIG_LIBVIRT.format(key=key), "libvirt")
    stamps = "100.0 100.5 102.1\n200.0 200.5 202.2\n300.0 300.4 302.0\n"
    monkeypatch.setattr(vinv, "ssh_runner", lambda node, netns: lambda command, timeout: stamps)
    budgets = vinv.measured_budgets(inv, tcg=True, netns=None)
    assert budgets["calibration"]["measured"] == 2.0
    assert budgets["scale"] == calibrate.scale_for(2.0)
