# The services the cluster will run instead of the guide's Apache: a Samba share and a
# libvirt VM, both on the replicated file system (mounted on /srv/cluster by the cluster).
mkdir -p /srv/cluster
cat > /etc/samba/smb.conf <<'SMB'
[global]
	workgroup = WORKGROUP
	# one name for the share, whichever node serves it
	netbios name = MYCLUSTER
	server string = HA file server
	map to guest = Bad User
	log file = /var/log/samba/log.%m

[data]
	comment = files on the replicated disk
	path = /srv/cluster/samba
	guest ok = yes
	read only = no
SMB
testparm -s /etc/samba/smb.conf >/dev/null 2>&1
# Pacemaker starts smbd where the file system is; nothing starts Samba at boot
systemctl disable --now smbd nmbd
# QEMU runs unprivileged under libvirt: let it bind the VM's console port, 902
echo "net.ipv4.ip_unprivileged_port_start = 902" > /etc/sysctl.d/90-vm-console.conf
sysctl -q -p /etc/sysctl.d/90-vm-console.conf
# VirtualDomain talks to libvirtd on whichever node runs the VM
systemctl enable --now libvirtd
