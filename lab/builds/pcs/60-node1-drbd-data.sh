# Clusters from Scratch, "Initialize DRBD" and "Populate the DRBD Disk": pcmk-1's data wins,
# the first synchronisation ends, then xfs and the services' files go onto the disk, which
# is unmounted again (the cluster mounts it).
drbdadm primary --force clusterdata
i=0
until grep -q "ds:UpToDate/UpToDate" /proc/drbd; do
	i=$((i + 1)); [ $i -le 800 ] || { cat /proc/drbd >&2; exit 1; }
	sleep 1
done
mkfs.xfs -q /dev/drbd1
mount /dev/drbd1 /mnt
# the share, writable by Samba's guests
install -d -m 0777 /mnt/samba
# the VM: its disk (the demo guest) and its libvirt definition, beside each other
mkdir -p /mnt/vm
echo "$GUEST_B64" | base64 -d > /mnt/vm/demo-vm.img
truncate -s 1M /mnt/vm/demo-vm.img
cat > /mnt/vm/demo-vm.xml <<'XML'
<domain type='qemu'>
  <name>demo-vm</name>
  <memory unit='MiB'>16</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='writethrough'/>
      <source file='/srv/cluster/vm/demo-vm.img'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <serial type='tcp'>
      <source mode='bind' host='0.0.0.0' service='902'/>
      <protocol type='raw'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
XML
umount /dev/drbd1
