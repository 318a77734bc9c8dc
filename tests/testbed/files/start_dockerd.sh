#!/bin/sh
# Starts a test host's dockerd (run inside the host's namespaces). Usage: start_dockerd.sh HOST_DIR
DIR=$1
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
dockerd --data-root "$DIR/docker" --exec-root /run/docker-exec --pidfile /run/docker.pid \
  -H unix:///run/docker.sock --storage-driver vfs --iptables=false --ip-masq=false \
  --bridge=none --default-address-pool base=10.254.128.0/17,size=24 \
  --insecure-registry 10.254.0.0/24 >>"$DIR/dockerd.log" 2>&1 &
echo $! > "$DIR/dockerd.pid"
