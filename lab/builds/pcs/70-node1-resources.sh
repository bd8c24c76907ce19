# shellcheck disable=SC1010  # `then` below is pcs's word (constraint order), not the shell's
# Clusters from Scratch, "Create an Active/Passive Cluster" and "Replicate Storage Using
# DRBD", queued in one copy of the CIB and pushed at once as the guide does: the guide's
# ids (ClusterIP, ClusterData, ClusterFS), Samba and the VM in place of its WebSite.
cfg=$(mktemp -d)/cluster_cfg
pcs cluster cib "$cfg" </dev/null
# The guide's distribution sets a default stickiness of 1 at setup, which Debian's
# Pacemaker does not: set it. The guide then raises it to 100, above its preference of 50
# for one node, so that nothing moves back after a failover; the article's cluster moves
# back to its first node (auto_failback): the 50 must win, stickiness stays 1.
pcs -f "$cfg" resource defaults update resource-stickiness=1 </dev/null
# the guide's operation time limit: slow nodes' agents (drbd's monitor, VM start) need it
pcs -f "$cfg" resource op defaults update timeout=240s </dev/null
pcs -f "$cfg" resource create ClusterIP ocf:heartbeat:IPaddr2 \
	ip=192.168.1.3 cidr_netmask=24 op monitor interval=30s </dev/null
pcs -f "$cfg" resource create Samba systemd:smbd op monitor interval=1min </dev/null
# the demo guest has no OS to obey an ACPI shutdown: destroyed at stop, not waited for
pcs -f "$cfg" resource create VM ocf:heartbeat:VirtualDomain \
	config=/srv/cluster/vm/demo-vm.xml hypervisor=qemu:///system force_stop=true \
	op monitor interval=30s </dev/null
pcs -f "$cfg" resource create ClusterData ocf:linbit:drbd drbd_resource=clusterdata \
	op monitor interval=29s role=Promoted monitor interval=31s role=Unpromoted \
	promotable promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 \
	notify=true </dev/null
# the node holding the Promoted instance counts more in a fence race (priority-fencing-delay)
pcs -f "$cfg" resource meta ClusterData-clone priority=1 </dev/null
pcs -f "$cfg" resource create ClusterFS Filesystem \
	device=/dev/drbd1 directory=/srv/cluster fstype=xfs </dev/null
pcs -f "$cfg" constraint colocation add ClusterFS with Promoted ClusterData-clone </dev/null
pcs -f "$cfg" constraint order promote ClusterData-clone then start ClusterFS </dev/null
# the services run where the file system is mounted, once it is
pcs -f "$cfg" constraint colocation add Samba with ClusterFS </dev/null
pcs -f "$cfg" constraint order ClusterFS then Samba </dev/null
pcs -f "$cfg" constraint colocation add VM with ClusterFS </dev/null
pcs -f "$cfg" constraint order ClusterFS then VM </dev/null
# The address goes with the services and comes up after them (the guide orders it first,
# for Apache; smbd listens on every address, and a client that reaches the address then
# finds the share and the console already served).
pcs -f "$cfg" constraint colocation add ClusterIP with Samba </dev/null
pcs -f "$cfg" constraint order Samba then ClusterIP </dev/null
pcs -f "$cfg" constraint colocation add ClusterIP with VM </dev/null
pcs -f "$cfg" constraint order VM then ClusterIP </dev/null
# pcmk-1 is the preferred node (the guide's `prefers ...=50`), set on the file system:
# the Promoted instance follows it, and every service follows the file system
pcs -f "$cfg" constraint location ClusterFS prefers pcmk-1=50 </dev/null
pcs -f "$cfg" cluster verify </dev/null
pcs cluster cib-push "$cfg" --config </dev/null
rm -rf "$(dirname "$cfg")"
# the guide's `pcs resource status`, until every service runs on pcmk-1
for rsc in ClusterFS Samba VM ClusterIP; do
	i=0
	until crm_resource --locate --resource "$rsc" 2>/dev/null | grep -q "running on: pcmk-1"; do
		i=$((i + 1)); [ $i -le 600 ] || { crm_mon -1 >&2; exit 1; }
		sleep 1
	done
done
