#!/bin/sh
# Runs inside a test host: its own network namespace (ip netns exec) and its own mount and UTS
# namespaces (unshare), so /run and /root are private to the host. Starts dockerd, then sshd.
# Usage: host_init.sh HOST_DIR NAME ADDRESS
set -eu
DIR=$1 NAME=$2 ADDR=$3
hostname "$NAME"
# `ip netns exec` gives a fresh sysfs without cgroups: mount the hierarchies dockerd needs.
mount -t tmpfs cgroup_root /sys/fs/cgroup
for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
  mkdir -p /sys/fs/cgroup/$c
  mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c 2>/dev/null || rmdir /sys/fs/cgroup/$c
done
mkdir -p /sys/fs/cgroup/systemd && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
mount --bind "$DIR/run" /run
mount --bind "$DIR/root" /root
mkdir -p /run/sshd
# The Debian daemon is 20.10; /usr/local/bin/docker may be a newer client: prefer /usr/bin.
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
sh "$(dirname "$0")/start_dockerd.sh" "$DIR"
exec /usr/sbin/sshd -D -f "$DIR/sshd_config" -E "$DIR/sshd.log"
