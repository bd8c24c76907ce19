# A site where root does not log in over SSH: an admin account with sudo without a
# password (sudo -n), and sshd on the site's port besides the lab's own.
id hadmin >/dev/null 2>&1 || useradd --create-home --shell /bin/sh hadmin
install -d -m 700 -o hadmin -g hadmin /home/hadmin/.ssh
install -m 600 -o hadmin -g hadmin /root/.ssh/authorized_keys /home/hadmin/.ssh/authorized_keys
echo "hadmin ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/hadmin
chmod 440 /etc/sudoers.d/hadmin
visudo -cq
mkdir -p /etc/ssh/sshd_config.d
printf 'Port 22\nPort 2222\n' > /etc/ssh/sshd_config.d/site-port.conf
systemctl restart ssh
