# Article §2.1 and §2.3: the names of both machines and a common clock.
# (The lab's first boot already wrote /etc/hostname and the static address of eth0.)
cat >> /etc/hosts <<'HOSTS'

# HA cluster (article §2.1)
192.168.1.1	HAdebian01
192.168.1.2	HAdebian02
HOSTS
# ntpdate in the article; chrony on Debian 12, against the lab's own time server
echo "server 192.168.1.254 iburst" > /etc/chrony/sources.d/cluster.sources
systemctl restart chrony
chronyc -n makestep >/dev/null 2>&1 || true
