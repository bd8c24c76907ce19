# Article §5.2: the share [RaidOverIp] on the RAID. `security = share` is gone from Samba 4:
# guests are mapped instead. Article §5.3: heartbeat alone starts Samba (update-rc.d -f
# samba remove).
cat > /etc/samba/smb.conf <<'SMB'
[global]
	workgroup = LOCALDOMAIN
	netbios name = RaidOverIP
	map to guest = Bad User

[RaidOverIp]
	comment = RaidOverIp
	path = /var/lib/vmware
	public = yes
	writable = yes
	printable = no
	guest ok = Yes
SMB
systemctl disable --now smbd nmbd
