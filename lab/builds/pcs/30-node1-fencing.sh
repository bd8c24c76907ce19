# Clusters from Scratch, "Configure Fencing" (fencing is never turned off). The lab offers
# no IPMI board nor a hypervisor the nodes could reach (fence_ipmilan, fence_virsh): the
# only fence device is the disk both nodes share, with a hardware watchdog on each node,
# so the fence agent is fence_sbd, set up with pcs's own SBD commands.
SBD_DEV=/dev/disk/by-id/virtio-sbd
# the header's timeouts: the lab's watchdog resets a node 13-16 s after a 10 s timeout, so
# msgwait (a fence counts as done) is twice that, above sbd's defaults of 5 and 10
pcs stonith sbd device setup device="$SBD_DEV" watchdog-timeout=10 msgwait-timeout=20 \
	--force </dev/null
# pcsd is slow on the lab's emulated CPUs (20-node1-cluster.sh): calls through it wait longer
pcs stonith sbd enable device="$SBD_DEV" watchdog=/dev/watchdog --request-timeout=600 </dev/null
# pcs: "Cluster has to be restarted in order to apply these changes" (sbd starts with it)
pcs cluster stop --all --request-timeout=600 </dev/null
pcs cluster start --all --wait=300 --request-timeout=600 </dev/null
# the guide's steps 5-11: a copy of the CIB, the device, fencing on, pushed at once
cfg=$(mktemp -d)/stonith_cfg
pcs cluster cib "$cfg" </dev/null
pcs -f "$cfg" stonith create sbd-fencing fence_sbd devices="$SBD_DEV" \
	op monitor interval=60s </dev/null
pcs -f "$cfg" property set stonith-enabled=true </dev/null
# Beyond the guide, for its two-node case: when the cable between the nodes is cut, both
# race to fence; the node holding the services (their priority, set with the resources)
# fences its peer at once and is itself fenced only after this delay, so it wins.
pcs -f "$cfg" property set priority-fencing-delay=45s </dev/null
pcs cluster cib-push "$cfg" --config </dev/null
rm -rf "$(dirname "$cfg")"
