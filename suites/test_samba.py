"""Article §5: the Samba share, reached through the virtual IP only."""

from __future__ import annotations

import pytest

from fixtures.access import evidence
from fixtures.access.errors import SuiteError
from fixtures.access.evidence import within
from fixtures.resources.samba import (
    SmbError,
    SmbShare,
    read_smb_conf,
    share_conf,
    share_problems,
    write_problem,
)
from fixtures.scenarios.records import HeartbeatStop, PowerFailure, Record


@pytest.mark.control("SMB-01")
def test_share_is_the_articles_and_the_cluster_manager_alone_starts_smbd(cluster, inventory):
    shares, mount = inventory.samba.shares, inventory.drbd.mount_point
    guest = inventory.samba.login() is None
    found, read = [], {}
    for node in cluster:
        try:
            sections, source = read_smb_conf(node)
        except SuiteError as exc:
            found.append(str(exc))
            continue
        read[node.name] = sections
        evidence.current().notes.append(f"{node.name}: shares read from {source}")
        for i, share in enumerate(shares):
            # the first share is the one the failover scenarios write to
            found += [f"{node.name}: {p}" for p in share_problems(
                sections, share, mount, writable=i == 0, guest=guest)]
        for unit in ("smbd", "nmbd"):
            if node.host.service(unit).is_enabled:
                found.append(f"{node.name}: {unit} is enabled at boot; "
                             f"{inventory.cluster_manager} must be the one to start it")
    # the first share takes the scenarios' writes: its directory, on the node serving it,
    # must let the account the writes land as write (a writable share on a 755 root is not)
    active = cluster.active
    conf = share_conf(read.get(active.name, {}), shares[0])
    account = conf.writer(guest) if conf and conf.path else None
    if account:
        problem = write_problem(active, conf, account)
        found += [problem] if problem else []
    assert not found, "; ".join(found)


def _smb_figures(sc: Record, inventory) -> None:
    budget = inventory.budgets.scaled.smb_outage
    longest = sc.writer.longest_outage() if sc.writer else None
    evidence.current().measure(f"SMB outage ({sc.name})", longest, budget=budget,
                               note=f"longest window the share did not answer, {sc.name}")
    within(longest, budget, f"the share did not answer during {sc.name} for")


def _files_survive(sc: HeartbeatStop | PowerFailure, inventory) -> None:
    """What was written through the VIP reads back, byte for byte, on the other node."""
    for trip, when in ((sc.smb_before, "before the fault, read on node2"),
                       (sc.smb_during, "during node2's tenure, read after failback")):
        evidence.current().notes.append(
            f"{trip.name}: wrote {len(trip.written or b'')} bytes, read back "
            f"{'nothing' if trip.read_back is None else f'{len(trip.read_back)} bytes'}")
        assert trip.written is not None, (
            f"could not write {trip.name} through the VIP ({when}): {trip.error}")
        assert trip.intact, f"file written through the VIP {when} differs: {trip.why()}"
    _smb_figures(sc, inventory)


@pytest.mark.control("SMB-02")
@pytest.mark.disruptive
def test_files_written_through_the_vip_survive_heartbeat_stop_and_failback(
        heartbeat_stop: HeartbeatStop, inventory):
    _files_survive(heartbeat_stop.require(), inventory)


@pytest.mark.control("SMB-02")
@pytest.mark.disruptive
def test_files_written_through_the_vip_survive_power_off_and_failback(
        power_off: PowerFailure, inventory):
    _files_survive(power_off.require(), inventory)


def _no_write_lost(sc: Record) -> None:
    report = sc.writer
    evidence.current().measure(f"acknowledged writes ({sc.name})",
                               len(report.acknowledged), unit="files")
    evidence.current().measure(f"failed write attempts ({sc.name})", report.failures,
                               unit="attempts")
    assert report.acknowledged, "the writer never got a write acknowledged"
    assert not report.verify_error, f"could not read the files back: {report.verify_error}"
    assert not report.missing and not report.corrupt, (
        f"{len(report.missing)} acknowledged files missing ({report.missing[:5]}), "
        f"{len(report.corrupt)} with wrong content ({report.corrupt[:5]})")


@pytest.mark.control("SMB-03")
@pytest.mark.disruptive
def test_no_acknowledged_write_is_lost_across_heartbeat_stop(heartbeat_stop: HeartbeatStop):
    _no_write_lost(heartbeat_stop.require())


@pytest.mark.control("SMB-03")
@pytest.mark.disruptive
def test_no_acknowledged_write_is_lost_across_power_off(power_off: PowerFailure):
    _no_write_lost(power_off.require())


# a client opening the share gives up about this long before calling it down (widened by scale)
ANSWER_S = 10.0


def _why_silent(cluster) -> str:
    """Name what the node behind the VIP lacks when the share does not answer."""
    owners = cluster.owners()
    if len(owners) != 1:
        return f"{len(owners)} nodes hold the VIP ({', '.join(n.name for n in owners) or 'none'})"
    node = owners[0]
    smbd = node.run("systemctl is-active smbd", timeout=10).stdout.strip() or "unknown"
    return f"smbd is {smbd} on {node.name}, which holds the VIP"


@pytest.mark.control("SMB-04")
def test_the_share_answers_through_the_vip_as_a_client_sees_it(cluster, inventory):
    vip, login = inventory.network.virtual_ip, inventory.samba.login()
    limit = ANSWER_S * inventory.budgets.scale
    who = login.who if login else "guest"
    ev, silent = evidence.current(), []
    for share_name in inventory.samba.shares:
        share = SmbShare(vip, share_name, timeout=limit, login=login)
        try:
            probe = share.probe()
            error = ""
        except SmbError as exc:
            probe, error = None, str(exc)
        finally:
            share.close()
        # one share keeps the figure's name runs are compared by
        named = f" of {share_name}" if len(inventory.samba.shares) > 1 else ""
        ev.measure(f"SMB answer through the VIP{named} (session, tree connect, listing, read)",
                   probe.seconds if probe else None, budget=limit,
                   note=f"\\\\{vip}\\{share_name}, {who}, nothing written")
        if probe is None:
            silent.append(f"\\\\{vip}\\{share_name} does not answer ({error})")
            continue
        read = (f"read {probe.read_bytes} bytes of {probe.read_name}" if probe.read_name
                else f"nothing read: {probe.unread}")
        ev.notes.append(f"{share_name}: steps (s from start): {probe.steps}; listed "
                        f"{len(probe.listing)} entries; {read}")
        if probe.read_name and not probe.read_bytes:
            silent.append(f"{share_name}: read 0 bytes of {probe.read_name}")
        if probe.seconds > limit:
            silent.append(f"{share_name} answered in {probe.seconds:.1f}s, a client waits "
                          f"{limit:.0f}s")
    assert not silent, "; ".join(silent) + f": {_why_silent(cluster)}"
