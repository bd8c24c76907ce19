#!/bin/sh
# mmdebstrap customize hook: turn the bootstrapped tree into a lab node image.
# Usage: customize.sh ROOT FILES_DIR HOSTS_FILE AUTHORIZED_KEY
set -eu
root="$1"
files="$2"
hosts="$3"
pubkey="$4"

install -m 0755 "$files/halab-firstboot" "$root/usr/local/sbin/halab-firstboot"
install -m 0644 "$files/halab-firstboot.service" "$root/etc/systemd/system/halab-firstboot.service"
install -m 0644 "$files/sshd-halab.conf" "$root/etc/ssh/sshd_config.d/halab.conf"
install -m 0644 "$files/fstab" "$root/etc/fstab"
install -m 0644 "$hosts" "$root/etc/hosts"
install -d -m 0755 "$root/etc/systemd/system/drbd.service.d"
install -m 0644 "$files/drbd-halab.conf" "$root/etc/systemd/system/drbd.service.d/halab.conf"
install -d -m 0755 "$root/etc/systemd/journald.conf.d"
install -m 0644 "$files/journald-halab.conf" "$root/etc/systemd/journald.conf.d/halab.conf"

install -d -m 0700 "$root/root/.ssh"
install -m 0600 "$pubkey" "$root/root/.ssh/authorized_keys"

# Placeholder identity; halab-firstboot replaces it from the kernel command line.
echo halab > "$root/etc/hostname"
# Empty machine-id: systemd generates a distinct one on each node's first boot.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

chroot "$root" systemctl enable halab-firstboot.service
# Useless offline or slow under TCG; a lab node never updates itself.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
        man-db.timer fstrim.timer dpkg-db-backup.timer logrotate.timer systemd-timesyncd.service \
        getty@tty1.service; do
    chroot "$root" systemctl mask "$unit" >/dev/null 2>&1 || true
done

# No resolver on the lab network: keep lookups local and fast.
: > "$root/etc/resolv.conf"
# Host keys are made per node on first boot (halab-firstboot), not shared.
rm -f "$root"/etc/ssh/ssh_host_*

# Debian enables a service on install; which manager runs is provisioning's choice
# (fixtures/provision), so the Pacemaker stack (and pcs's daemon, which only a pcs-built
# cluster uses) starts disabled. Heartbeat keeps its default.
for unit in corosync.service pacemaker.service sbd.service pcsd.service; do
    chroot "$root" systemctl disable "$unit" >/dev/null 2>&1 || true
done
# The QEMU i6300esb watchdog for sbd, loaded by name. The q35 chipset's own TCO watchdog
# (iTCO_wdt) stays out: with two, which one /dev/watchdog is would depend on load order.
echo i6300esb > "$root/etc/modules-load.d/halab-watchdog.conf"
printf 'blacklist iTCO_wdt\nblacklist iTCO_vendor_support\n' \
    > "$root/etc/modprobe.d/halab-watchdog.conf"
