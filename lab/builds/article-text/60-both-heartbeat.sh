# Article §4.2: ha.cf as printed (node names fixed: HAdebian0N, as uname -n prints them),
# with its commented-out serial line taken up (the lab has the null-modem cable, on
# ttyS1: ttyS0 is the console) and ipfail pinging the lab's host, as the Linux-HA docs
# add it, so that a node that lost its network gives the resources up.
cat > /etc/ha.d/ha.cf <<'HACF'
# « facility » utilisée pour syslog
logfacility local0
logfile /var/log/ha-log
keepalive 2
deadtime 10
warntime 6
initdead 60
udpport 694
bcast eth0
serial /dev/ttyS1
baud 19200
auto_failback on
ping 192.168.1.254
respawn hacluster /usr/libexec/heartbeat/ipfail
apiauth ipfail gid=haclient uid=hacluster
# les noms (obtenus avec uname -n) des deux noeuds
node HAdebian01
node HAdebian02
crm off
HACF
# article: `1 crc`; sha1 with a shared secret authenticates the peers
printf 'auth 1\n1 sha1 %s\n' "$AUTHKEY" > /etc/ha.d/authkeys
chmod 600 /etc/ha.d/authkeys
# article §6.7's line, on one line, with Debian's names for its services
cat > /etc/ha.d/haresources <<'HARES'
##On indique ici les services à rendre hautement disponibles
HAdebian01 drbddisk::user Filesystem::/dev/drbd0::/var/lib/vmware::ext3 smbd nmbd vmstart IPaddr2::192.168.1.3
HARES
systemctl enable heartbeat
systemctl restart heartbeat
