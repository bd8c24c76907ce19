# Article §3.2: the resource "user", in DRBD 8.4's syntax. The disk is the lab's second
# disk (the article's sda2/sda4 slip); on-io-error detach keeps the node serving from its
# peer's disk (the article's `panic` stops it); the after-sb policies are DRBD's user's
# guide's answer to a split brain after a pulled cable.
cat > /etc/drbd.d/user.res <<'RES'
resource user {
	net {
		protocol C;
		after-sb-0pri discard-zero-changes;
		after-sb-1pri discard-secondary;
		after-sb-2pri disconnect;
	}
	startup {
		wfc-timeout 240;
		degr-wfc-timeout 240;
	}
	disk {
		on-io-error detach;
		al-extents 257;
	}
	on HAdebian01 {
		device    /dev/drbd0;
		disk      /dev/vdb;
		address   192.168.1.1:7789;
		meta-disk internal;
	}
	on HAdebian02 {
		device    /dev/drbd0;
		disk      /dev/vdb;
		address   192.168.1.2:7789;
		meta-disk internal;
	}
}
RES
# Article §3.3: the mount point on both machines
mkdir -p /var/lib/vmware
yes yes | drbdadm create-md user
drbdadm up user
# drbddisk only promotes: the DRBD service brings the resource up at boot
systemctl enable drbd
