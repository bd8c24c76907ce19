# Article §3.4: HAdebian01 becomes the primary, the RAID gets its file system, and the
# virtual machine's files go onto it (article §6: the VM lives in /var/lib/vmware).
drbdadm primary --force user
mkfs.ext3 -q /dev/drbd0
mount /dev/drbd0 /var/lib/vmware
# Article §3.3's `chmod 777` on the bare mount point is hidden once the RAID is mounted,
# and world-writable is a slip (SPEC §5): the file system's root goes to the account a
# guest's writes land as (Samba's guest account, nobody), as the share (§5.2) needs
chown nobody:nogroup /var/lib/vmware
chmod 0775 /var/lib/vmware
mkdir -p /var/lib/vmware/reactos
echo "$GUEST_B64" | base64 -d > /var/lib/vmware/reactos/reactos.img
truncate -s 1M /var/lib/vmware/reactos/reactos.img
cat > /var/lib/vmware/reactos/reactos.xml <<'XML'
<domain type='qemu'>
  <name>reactos</name>
  <memory unit='MiB'>16</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='writethrough'/>
      <source file='/var/lib/vmware/reactos/reactos.img'/>
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
umount /var/lib/vmware
drbdadm secondary user
# the first synchronisation, before Heartbeat may move the disk (article §3.4: cat /proc/drbd)
i=0
until grep -q "ds:UpToDate/UpToDate" /proc/drbd; do
	i=$((i + 1)); [ $i -le 600 ] || { cat /proc/drbd >&2; exit 1; }
	sleep 1
done
