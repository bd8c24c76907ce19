# Clusters from Scratch, "Configure DRBD" and "Initialize DRBD", in DRBD 8.4's syntax (the
# nodes' kernel module): the guide's resource on minor 1, port 7789, protocol C, internal
# metadata, with its fencing (a Primary that loses its peer freezes I/O until Pacemaker
# has fenced it, and the peer may not be promoted until it has resynced). Not taken: the
# guide's allow-two-primaries, kept there only for its later active/active chapter.
cat > /etc/drbd.d/clusterdata.res <<'RES'
resource clusterdata {
	net {
		protocol C;
		verify-alg sha1;
	}
	disk {
		fencing resource-and-stonith;
	}
	handlers {
		fence-peer "/usr/lib/drbd/crm-fence-peer.sh";
		after-resync-target "/usr/lib/drbd/crm-unfence-peer.sh";
	}
	on pcmk-1 {
		device    /dev/drbd1;
		disk      /dev/vdb;
		address   192.168.1.1:7789;
		meta-disk internal;
	}
	on pcmk-2 {
		device    /dev/drbd1;
		disk      /dev/vdb;
		address   192.168.1.2:7789;
		meta-disk internal;
	}
}
RES
# Pacemaker's ocf:linbit:drbd brings the resource up: nothing else at boot
systemctl disable --now drbd
# the guide's modprobe; drbdadm then reads the file in the loaded module's (8.4) syntax
modprobe drbd
drbdadm dump clusterdata >/dev/null
yes yes | drbdadm create-md clusterdata
drbdadm up clusterdata
