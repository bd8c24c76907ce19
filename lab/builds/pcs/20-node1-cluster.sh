# Clusters from Scratch, "Configure Corosync" and "Start and Verify Cluster": authenticate
# pcs to both pcsd, let `pcs cluster setup` write corosync.conf and the keys (corosync's
# defaults: knet, aes256/sha256, two_node, the 3 s token), start the cluster on both.
pw=$(printf 'pcsd hacluster %s' "$AUTHKEY" | sha256sum | cut -c1-32)
pcs host auth pcmk-1 pcmk-2 -u hacluster -p "$pw" </dev/null
# pcsd answers slowly on the lab's emulated CPUs: tearing the old cluster down inside
# `setup` (three `systemctl disable`, each a daemon-reload and update-rc.d: 43 s on an
# idle TCG node) can outlast pcs's 60 s per request, and `setup` (pcs 0.11) takes no
# --request-timeout, so it is tried again as an admin would, once the node has finished
# the teardown it was asked for; the calls that take one wait longer, as pcs's error advises.
# the guide's note: explicit addresses, no reliance on name resolution in corosync.conf
try=1
until pcs cluster setup mycluster pcmk-1 addr=192.168.1.1 pcmk-2 addr=192.168.1.2 </dev/null; do
	try=$((try + 1)); [ $try -le 3 ] || exit 1
	sleep 60
done
pcs cluster start --all --wait=300 --request-timeout=600 </dev/null
# The guide leaves the cluster to a manual start after a reboot, for a post-mortem; the
# cluster this one replaces (the article's Heartbeat) rejoins by itself, and a fenced node
# must come back without an admin: the guide's alternative, enabled at boot.
pcs cluster enable --all --request-timeout=600 </dev/null
corosync-cfgtool -s >/dev/null
pcs status corosync </dev/null >/dev/null
