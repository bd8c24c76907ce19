# Article §6.7: the vmstart script heartbeat calls, here with virsh instead of vmware-cmd.
# libvirtd runs on both machines (Debian starts it); the VM runs where heartbeat puts it.
cat > /etc/ha.d/resource.d/vmstart <<'VMSTART'
#!/bin/sh
VM=reactos
case "$1" in
start)
	# a node that was powered off with the VM running still has it defined: that
	# definition goes, the one on the shared disk is the one to run
	virsh -c qemu:///system undefine $VM >/dev/null 2>&1
	virsh -c qemu:///system define /var/lib/vmware/$VM/$VM.xml >/dev/null &&
		virsh -c qemu:///system start $VM
	;;
stop)
	virsh -c qemu:///system destroy $VM >/dev/null 2>&1
	virsh -c qemu:///system undefine $VM >/dev/null 2>&1
	exit 0
	;;
status)
	if [ "$(virsh -c qemu:///system domstate $VM 2>/dev/null | head -n1)" = running ]; then
		echo running
	else
		echo stopped
	fi
	;;
esac
VMSTART
chmod 755 /etc/ha.d/resource.d/vmstart
# QEMU runs unprivileged under libvirt: let it bind the article's console port, 902
echo "net.ipv4.ip_unprivileged_port_start = 902" > /etc/sysctl.d/90-console.conf
sysctl -q -p /etc/sysctl.d/90-console.conf
systemctl enable --now libvirtd
