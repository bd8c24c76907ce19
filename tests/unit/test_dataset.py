"""The data set of the rehearsed migration (fixtures/migration/dataset.py), without a share: the
plan and its checksums, the manifest's JSON, and the check that counts every file."""

from __future__ import annotations

import hashlib

import pytest

from fixtures.migration import dataset
from fixtures.migration.dataset import (
    DatasetError,
    Manifest,
    NotFound,
    VmDisk,
    check,
    content,
    judge_disk,
    make,
    parse_disk,
    plan,
    share_path,
)


def test_plan_is_reproducible_with_known_checksums_and_sizes_up_to_the_max():
    a, b = plan(200, seed=42), plan(200, seed=42)
    assert a == b and len(a) == 200 and len({e.name for e in a}) == 200
    sizes = [e.size for e in a]
    assert sizes[:3] == [0, 1, 2**20] and max(sizes) == 2**20 and min(sizes) == 0
    assert len(set(sizes)) > 100  # various sizes, not one
    assert sum(s < 64 * 1024 for s in sizes) > sum(s >= 64 * 1024 for s in sizes)
    for e in a[:20]:
        assert hashlib.sha256(content(e)).hexdigest() == e.sha256 and len(content(e)) == e.size
    assert plan(200, seed=43) != a  # another seed, other contents
    with pytest.raises(DatasetError, match="at least one file"):
        plan(0, seed=1)


def test_manifest_round_trips_through_json_and_refuses_garbage(tmp_path):
    m = make(5, seed=7, max_size=4096, directory="ds")
    m.vm_disk = VmDisk("/srv/vm/disk.img", "node1", "a" * 64, "b" * 64, 3)
    path = tmp_path / "manifest.json"
    path.write_text(m.to_json())
    back = Manifest.load(path)
    assert back == m and back.total_bytes == sum(e.size for e in m.files)
    with pytest.raises(DatasetError, match="not JSON"):
        Manifest.from_json("{", "x.json")
    with pytest.raises(DatasetError, match="not a data set manifest"):
        Manifest.from_json('{"schema": 99}', "x.json")
    with pytest.raises(DatasetError, match=r"x.json: malformed \(KeyError"):
        Manifest.from_json('{"schema": 1, "directory": "d", "seed": 1, "max_size": 2, '
                           '"files": [{"name": "a"}]}', "x.json")
    with pytest.raises(DatasetError, match="nope.json"):
        Manifest.load(tmp_path / "nope.json")


def _share(m: Manifest) -> dict[str, bytes]:
    return {share_path(m, e): content(e) for e in m.files}


def _reader(files: dict[str, bytes], broken: set[str] = frozenset()):
    def read(name: str) -> bytes:
        if name in broken:
            raise OSError("connection reset")
        if name not in files:
            raise NotFound(name)
        return files[name]
    return read


def test_check_counts_every_file_intact_missing_corrupt_unreadable():
    m = make(10, seed=3, max_size=2048, directory="ds")
    files = _share(m)
    assert check(m, _reader(files)).counts() == {
        "files": 10, "intact": 10, "missing": 0, "corrupt": 0, "unreadable": 0}
    assert check(m, _reader(files)).ok
    names = [share_path(m, e) for e in m.files]
    del files[names[1]]
    files[names[2]] = files[names[2]][:-1] + bytes([files[names[2]][-1] ^ 1])  # one bit
    files[names[3]] = files[names[3]] + b"\0"  # one byte too many
    files[names[4]] = b""  # truncated to nothing
    r = check(m, _reader(files, broken={names[5]}))
    assert r.counts() == {"files": 10, "intact": 5, "missing": 1, "corrupt": 3,
                          "unreadable": 1}
    assert r.missing == ["ds-0001.bin"] and r.corrupt == ["ds-0002.bin", "ds-0003.bin",
                                                          "ds-0004.bin"]
    assert r.unreadable == {"ds-0005.bin": "OSError: connection reset"}
    assert not r.ok and r.summary() == ("5/10 intact, 1 missing, 3 corrupt, 1 unreadable")
    assert not check(m, _reader({})).ok  # an empty share proves nothing


def test_vm_disk_is_judged_without_its_boot_counter():
    out = "a" * 64 + "\n" + "b" * 64 + "\n          3\n"
    before = parse_disk(out, "/srv/vm/disk.img", "node1")
    assert (before.sha256, before.sha256_without_counter, before.boot_count) == (
        "a" * 64, "b" * 64, 3)
    rebooted = parse_disk("c" * 64 + "\n" + "b" * 64 + "\n 4\n", "/srv/vm/disk.img", "node1")
    assert judge_disk(before, rebooted) == []  # only the counter moved, and upwards
    other = parse_disk("c" * 64 + "\n" + "d" * 64 + "\n 4\n", "/srv/vm/disk.img", "node1")
    assert "changed beyond its boot counter" in judge_disk(before, other)[0]
    older = parse_disk("e" * 64 + "\n" + "b" * 64 + "\n 2\n", "/srv/vm/disk.img", "node1")
    assert "went back from 3 to 2" in judge_disk(before, older)[0]
    with pytest.raises(DatasetError, match="no checksum"):
        parse_disk("sha256sum: /srv/vm/disk.img: No such file\n", "/srv/vm/disk.img", "node1")


def test_disk_command_zeroes_exactly_the_counter(tmp_path):
    """The node's shell pipeline, run here on a fake disk: the counter bytes are masked,
    every other byte still counts."""
    import subprocess

    disk = bytearray(random_bytes(4096))
    disk[512:516] = b"HADM"
    disk[516:520] = (7).to_bytes(4, "little")
    path = tmp_path / "disk image.img"
    path.write_bytes(bytes(disk))
    out = subprocess.run(["sh", "-c", dataset.disk_command(str(path))], capture_output=True,
                         text=True, check=True).stdout
    got = parse_disk(out, str(path), "here")
    masked = bytes(disk[:516]) + b"\0" * 4 + bytes(disk[520:])
    assert got.sha256 == hashlib.sha256(disk).hexdigest()
    assert got.sha256_without_counter == hashlib.sha256(masked).hexdigest()
    assert got.boot_count == 7
    disk[516] = 8
    path.write_bytes(bytes(disk))
    again = parse_disk(subprocess.run(["sh", "-c", dataset.disk_command(str(path))],
                                      capture_output=True, text=True, check=True).stdout,
                       str(path), "here")
    assert again.sha256 != got.sha256 and judge_disk(got, again) == []
    disk[600] ^= 1
    path.write_bytes(bytes(disk))
    third = parse_disk(subprocess.run(["sh", "-c", dataset.disk_command(str(path))],
                                      capture_output=True, text=True, check=True).stdout,
                       str(path), "here")
    assert judge_disk(got, third)


def random_bytes(n: int) -> bytes:
    import random

    return random.Random(5).randbytes(n)


class _FakeShare:
    """Records writes; fails the first attempt at one name (a dropped connection)."""

    server, share, timeout = "192.0.2.3", "S", 5.0

    def __init__(self, fail_once: str = ""):
        self.files: dict[str, bytes] = {}
        self.dirs: list[str] = []
        self.fail_once = fail_once

    def mkdir(self, name: str) -> None:
        self.dirs.append(name)

    def write(self, name: str, data: bytes) -> None:
        from fixtures.resources.samba import SmbError

        if name == self.fail_once:
            self.fail_once = ""
            raise SmbError("connection reset")
        self.files[name] = data

    def close(self) -> None:
        pass


def test_write_puts_every_file_in_the_directory_and_check_reads_them_back(monkeypatch):
    monkeypatch.setattr(dataset.time, "sleep", lambda s: None)
    m = make(6, seed=9, max_size=1000, directory="ds")
    share = _FakeShare(fail_once="ds\\ds-0002.bin")  # written again after one failure
    dataset.write(share, m)
    assert share.dirs == ["ds"] and set(share.files) == {share_path(m, e) for e in m.files}
    assert m.written > 0
    assert check(m, _reader(share.files)).ok


def test_write_gives_up_in_one_line_after_its_retries(monkeypatch):
    from fixtures.resources.samba import SmbError

    monkeypatch.setattr(dataset.time, "sleep", lambda s: None)

    class Dead(_FakeShare):
        def write(self, name, data):
            raise SmbError("no answer in 5s")

    with pytest.raises(DatasetError, match=r"writing ds\\ds-0000.bin through "
                                           r"\\\\192.0.2.3\\S: no answer in 5s"):
        dataset.write(Dead(), make(2, seed=1, max_size=10, directory="ds"))


def test_downtime_runs_from_the_last_ack_before_a_failure_to_the_first_after():
    from fixtures.migration.dataset import Attempt, downtime

    ok = [Attempt(t, t + 0.2, True) for t in (0, 1, 2)]
    assert downtime(ok) == {"seconds": 0.0, "longest": 0.0, "outages": 0, "spans": [],
                            "writes": 3, "failures": 0, "open_at_end": False}
    two = [Attempt(0, 0.2, True), Attempt(1, 6, False), Attempt(7, 7.5, True),
           Attempt(8, 8.2, True), Attempt(9, 14, False), Attempt(15, 20, False),
           Attempt(21, 21.4, True)]
    d = downtime(two)
    assert d["spans"] == [[0.2, 7.5], [8.2, 21.4]] and d["outages"] == 2
    assert d["seconds"] == 20.5 and d["longest"] == 13.2 and d["failures"] == 3
    # still down at the end: the outage is open and runs to the last attempt
    tail = [Attempt(0, 0.2, True), Attempt(1, 6, False), Attempt(7, 12, False)]
    d = downtime(tail)
    assert d["open_at_end"] and d["spans"] == [[0.2, 12]] and d["seconds"] == 11.8
    # never served: from the first attempt
    assert downtime([Attempt(5, 10, False), Attempt(11, 11.5, True)])["spans"] == [[5, 11.5]]
