"""smb.conf read as Samba reads it, the shares judged by meaning (SMB-01), and the SMB
login from an smbclient authentication file or the environment, its password kept out of
every message."""

from __future__ import annotations

import pytest
import yaml

from fixtures.access import secrets
from fixtures.access.inventory import InventoryError, Samba, load, parse_auth_file
from fixtures.access.node import Result
from fixtures.resources.samba import (
    SmbError,
    SmbShare,
    expand_includes,
    parse_smb_conf,
    share_conf,
    share_problems,
    write_problem,
)

MOUNT = "/var/lib/vmware"

# `testparm -s` on Debian 12 (Samba 4.17) for the article's share: canonical names, only
# what differs from the defaults, "Server role" before the first section (testparm(1))
TESTPARM = """\
Server role: ROLE_STANDALONE

# Global parameters
[global]
\tlog file = /var/log/samba/log.%m
\tmap to guest = Bad User
\tserver min protocol = SMB2_02
\tserver string = HA cluster share

[RaidOverIP]
\tcreate mask = 0664
\tdirectory mask = 0775
\tforce user = nobody
\tguest ok = Yes
\tpath = /var/lib/vmware
\tread only = No
"""


def _problems(text: str, share: str = "RaidOverIP", *, writable: bool = True,
              guest: bool = True, mount: str = MOUNT) -> list[str]:
    return share_problems(parse_smb_conf(text), share, mount, writable=writable, guest=guest)


def test_testparm_output_of_the_articles_share_passes():
    assert _problems(TESTPARM) == []


@pytest.mark.parametrize("writable", ["writeable = yes", "writable = Yes", "write ok = true",
                                      "read only = No", "readonly = no", "Read Only = false"])
def test_every_way_smb_conf_5_says_writable(writable):
    # smb.conf(5): writeable/writable/write ok are read only's inverse synonyms; names
    # ignore case and internal whitespace
    conf = f"[RaidOverIP]\n  path = {MOUNT}\n  {writable}\n  guest ok = yes\n"
    assert _problems(conf) == []


def test_a_share_is_read_only_unless_told_and_the_writer_needs_it_writable():
    conf = f"[RaidOverIP]\n  path = {MOUNT}\n  guest ok = yes\n"  # read only defaults to yes
    assert _problems(conf) == ["[RaidOverIP] is read only, and the failover scenarios "
                               "write to it"]
    assert _problems(conf, writable=False) == []


def test_public_is_guest_ok_and_guests_are_asked_for_only_without_a_login():
    # smb.conf(5): "public" is a synonym of "guest ok"
    assert _problems(f"[RaidOverIP]\npath = {MOUNT}\npublic = yes\nwritable = yes\n") == []
    closed = f"[RaidOverIP]\npath = {MOUNT}\nwritable = yes\n"
    assert "guest ok = no" in _problems(closed)[0]
    assert _problems(closed, guest=False) == []


def test_a_path_with_a_trailing_slash_or_below_the_mount_is_on_it():
    conf = "[d]\npath = /srv/share/\nwritable = yes\nguest ok = yes\n"
    assert share_conf(parse_smb_conf(conf), "d").path == "/srv/share"
    assert _problems(conf, "d", mount="/srv/share") == []
    assert _problems(conf.replace("/srv/share/", "/srv/share/public/%U"), "d",
                     mount="/srv/share") == []


def test_a_share_off_the_mount_fails_with_the_reason():
    conf = TESTPARM.replace("path = /var/lib/vmware", "path = /srv/samba/RaidOverIP")
    assert _problems(conf) == ["[RaidOverIP] path /srv/samba/RaidOverIP is not on the "
                               "replicated file system /var/lib/vmware: the survivor would "
                               "serve another directory"]
    assert "not on the replicated" in _problems(
        TESTPARM.replace("path = /var/lib/vmware", "path = /var/lib/vmware2"))[0]


def test_several_shares_only_the_first_must_be_writable():
    conf = TESTPARM + f"\n[Archive]\n\tguest ok = Yes\n\tpath = {MOUNT}/archive\n"
    sections = parse_smb_conf(conf)
    assert share_problems(sections, "archive", MOUNT, writable=False, guest=True) == []
    assert share_problems(sections, "Archive", MOUNT, writable=True, guest=True) == [
        "[Archive] is read only, and the failover scenarios write to it"]


def test_homes_and_printers_are_not_shares_an_inventory_names():
    # smb.conf(5)'s special sections
    conf = TESTPARM + "\n[homes]\n\tbrowseable = No\n[printers]\n\tpath = /var/spool/samba\n"
    sections = parse_smb_conf(conf)
    assert share_conf(sections, "homes") is None and share_conf(sections, "printers") is None
    assert _problems(conf) == []


def test_global_service_parameters_are_every_shares_defaults_and_available_no_disables():
    conf = (f"[global]\n  read only = no\n  guest ok = yes\n[RaidOverIP]\n  path = {MOUNT}\n"
            "  available = no\n")
    assert _problems(conf) == ["[RaidOverIP] is disabled (available = no)"]


def test_missing_share_and_continued_lines():
    # smb.conf(5): a line ending in a backslash goes on on the next one
    conf = f"[RaidOverIP]\n  path = {MOUNT}\n  writable = \\\n    yes\n  public = yes\n"
    assert _problems(conf) == []
    assert _problems(conf, "Other") == ["no [Other] share"]


def test_includes_are_read_in_place_and_a_macro_include_is_named():
    files = {"/etc/samba/shares.conf": f"[RaidOverIP]\npath = {MOUNT}\nwritable = yes\n"}
    text, missed = expand_includes("[global]\nguest ok = yes\ninclude = /etc/samba/shares.conf\n"
                                   "include = /etc/samba/%m.conf\n", files.get)
    assert _problems(text) == []
    assert missed == ["include = /etc/samba/%m.conf (resolved only by Samba: testparm)"]


# -- the SMB login ----------------------------------------------------------------------

PASSWORD = "s3cret-Pa55 with space"


def test_an_smbclient_authentication_file_gives_the_login():
    # smbclient(1) -A: "username = <value>", "password = <value>", "domain = <value>"
    login = parse_auth_file(f"# backup operator\nusername = backup\npassword = {PASSWORD}\n"
                            "domain   = EXAMPLE\n", "/etc/ha/smb.auth")
    assert (login.username, login.password, login.domain) == ("backup", PASSWORD, "EXAMPLE")
    assert login.who == "EXAMPLE\\backup"
    assert PASSWORD not in repr(login)


@pytest.mark.parametrize("text, expected", [
    ("username = backup\n", "/a: no 'password' line"),
    ("password = {p}\n", "/a: no 'username' line"),
    ("username = backup\npasword = {p}\n", "/a line 2: unknown key 'pasword'"),
    ("username = backup\n{p}\n", "/a line 2: expected 'key = value'"),
    ("username = backup\npassword: {p}=x\n", "/a line 2: unknown key (smbclient -A reads"),
])
def test_a_bad_authentication_file_names_the_field_never_the_password(text, expected):
    with pytest.raises(ValueError) as err:
        parse_auth_file(text.format(p=PASSWORD), "/a")
    assert expected in str(err.value)
    assert PASSWORD not in str(err.value) and "s3cret" not in str(err.value)


GOOD = {"cluster": "staging", "nodes": [
    {"name": "node1", "address": "192.168.1.1", "ssh": {}},
    {"name": "node2", "address": "192.168.1.2", "ssh": {}}]}


def _load(tmp_path, samba: dict):
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump({**GOOD, "samba": samba}))
    return load(path)


def test_a_credentials_file_loads_and_a_bad_one_stops_the_load_in_one_line(tmp_path,
                                                                            monkeypatch):
    for var in ("HA_SMB_USER", "HA_SMB_PASSWORD", "HA_SMB_DOMAIN"):
        monkeypatch.delenv(var, raising=False)
    auth = tmp_path / "smb.auth"
    auth.write_text(f"username = backup\npassword = {PASSWORD}\n")
    inv = _load(tmp_path, {"shares": ["RaidOverIP"], "credentials": str(auth)})
    assert inv.samba.login().username == "backup"
    assert inv.samba.secrets() == (PASSWORD,)
    auth.write_text(f"username = backup\npassword={PASSWORD}\nuser = backup\n")
    with pytest.raises(InventoryError) as err:
        _load(tmp_path, {"credentials": str(auth)})
    message = str(err.value)
    assert f"{auth} line 3: unknown key 'user'" in message and "\n" not in message
    assert PASSWORD not in message
    # a directory stands for a file that cannot be read (root reads any mode)
    with pytest.raises(InventoryError, match=rf"{tmp_path}: cannot read \(Is a directory\)"):
        _load(tmp_path, {"credentials": str(tmp_path)})
    with pytest.raises(InventoryError, match="no such file"):
        _load(tmp_path, {"credentials": str(tmp_path / "absent")})


def test_the_login_comes_from_the_environment_or_is_a_guest(monkeypatch):
    for var in ("HA_SMB_USER", "HA_SMB_PASSWORD", "HA_SMB_DOMAIN"):
        monkeypatch.delenv(var, raising=False)
    assert Samba().login() is None and Samba().secrets() == ()
    monkeypatch.setenv("HA_SMB_USER", "backup")
    with pytest.raises(InventoryError, match="samba: HA_SMB_PASSWORD is not set"):
        Samba().login()
    monkeypatch.setenv("HA_SMB_PASSWORD", PASSWORD)
    monkeypatch.setenv("HA_SMB_DOMAIN", "EXAMPLE")
    assert Samba().login().who == "EXAMPLE\\backup"


def test_an_smb_error_never_carries_the_password_and_the_password_is_a_registered_secret():
    secrets.clear()
    login = parse_auth_file(f"username = u\npassword = {PASSWORD}\n", "/a")
    share = SmbShare("127.0.0.1", "RaidOverIP", timeout=2, login=login)

    def fails() -> None:  # as a library might echo what it was given
        raise RuntimeError(f"logon failure for u with {PASSWORD}")
    try:
        with pytest.raises(SmbError) as err:
            share._call(fails)
        assert PASSWORD not in str(err.value) and "<password>" in str(err.value)
        assert PASSWORD in secrets.registered()
        assert PASSWORD not in secrets.redact(f"oops {PASSWORD}")
    finally:
        share.close()
        secrets.clear()


# the article's §5.2 share as lab/builds/article-text writes it (no force user)
ARTICLE_SMB_CONF = """\
[global]
\tworkgroup = LOCALDOMAIN
\tmap to guest = Bad User

[RaidOverIp]
\tpath = /var/lib/vmware
\tpublic = yes
\twritable = yes
\tguest ok = Yes
"""


def test_writes_land_as_the_forced_user_else_as_the_guest_account():
    """smb.conf(5): ``force user`` is the account of every write; a guest's land as the
    ``guest account`` (default nobody); an authenticated login's depend on its mapping."""
    article = share_conf(parse_smb_conf(ARTICLE_SMB_CONF), "RaidOverIp")
    assert (article.writer(guest=True), article.writer(guest=False)) == ("nobody", None)
    provisioned = share_conf(parse_smb_conf(TESTPARM), "RaidOverIP")
    assert provisioned.writer(guest=False) == "nobody"
    forced = share_conf(parse_smb_conf("[global]\nguest account = ftp\n[s]\npath = /srv\n"
                                       "force user = vmadmin\n"), "s")
    assert (forced.writer(guest=True), forced.writer(guest=False)) == ("vmadmin", "vmadmin")
    other = share_conf(parse_smb_conf("[global]\nguest account = ftp\n[s]\npath = /srv\n"), "s")
    assert other.writer(guest=True) == "ftp"


class _Node:
    """Answers `id`/`runuser` as a node would: ``access`` is test -w's exit status."""

    name = "ha1"

    def __init__(self, access: int | None, account: bool = True):
        self.access, self.account = access, account
        self.commands: list[str] = []

    def run(self, command: str, *args, timeout=None, **kw) -> Result:
        self.commands.append(command % args)
        if command.startswith("id "):
            return Result(command, 0 if self.account else 1, "65534\n", "", 0.0)
        return Result(command, self.access, "", "", 0.0, "" if self.access is not None
                      else "timed out after 20 s")


def test_a_share_whose_directory_the_writer_cannot_write_is_named():
    conf = share_conf(parse_smb_conf(ARTICLE_SMB_CONF), "RaidOverIp")
    assert write_problem(_Node(0), conf, "nobody") is None
    node = _Node(1)
    assert write_problem(node, conf, "nobody") == (
        f"[RaidOverIp] path {MOUNT} is not writable by nobody on ha1, the account the "
        "share's writes land as: every write through the VIP is refused (access denied)")
    assert node.commands[-1] == f"runuser -u nobody -- test -w {MOUNT}"
    assert "is unknown on ha1" in write_problem(_Node(0, account=False), conf, "nobody")
    assert "timed out" in write_problem(_Node(None), conf, "nobody")
    per_user = share_conf(parse_smb_conf("[u]\npath = /srv/%U\n"), "u")
    assert write_problem(_Node(1), per_user, "nobody") is None
