# Clusters from Scratch, "Installation" and "Set up a Cluster": the nodes know each other
# by name, share a clock, and run pcsd with a password for the hacluster user.
# (The lab's first boot already wrote /etc/hostname and the static address of eth0.)
grep -q "pcmk-1" /etc/hosts || cat >> /etc/hosts <<'HOSTS'

# cluster nodes
192.168.1.1	pcmk-1
192.168.1.2	pcmk-2
HOSTS
# the guide's chrony, pointed at the site's time server (the lab's host)
echo "server 192.168.1.254 iburst" > /etc/chrony/sources.d/cluster.sources
systemctl restart chrony
chronyc -n makestep >/dev/null 2>&1 || true
# Debian's corosync package ships a sample corosync.conf, which `pcs cluster setup` takes
# for an existing cluster: clear it first (the Debian-HA wiki's advice)
pcs cluster destroy --force </dev/null
# the same hacluster password on both nodes (the guide: `passwd hacluster`), derived from
# the site's secret so that the next step can authenticate; never printed
pw=$(printf 'pcsd hacluster %s' "$AUTHKEY" | sha256sum | cut -c1-32)
printf 'hacluster:%s\n' "$pw" | chpasswd
systemctl start pcsd.service
systemctl enable pcsd.service
