#!/bin/busybox sh
# PID 1 of the test VM. ttyS0 is the console (kernel + this script's log),
# ttyS1 carries the command's output, then "PELAGOS-VM-EXIT <status>".
/bin/busybox --install -s /bin
# pivot_root refuses a root that is the initramfs itself (it has no parent mount): move the whole
# tree onto a tmpfs and switch_root there, so containers in the guest can pivot_root.
if [ "$$" = 1 ] && [ ! -e /.pelagos-switched ]; then
  /bin/busybox mkdir -p /newroot
  /bin/busybox mount -t tmpfs -o mode=755 tmpfs /newroot
  for e in /*; do [ "$e" = /newroot ] || /bin/busybox cp -a "$e" /newroot/; done
  /bin/busybox touch /newroot/.pelagos-switched
  exec /bin/busybox switch_root /newroot /init
fi
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp LD_LIBRARY_PATH=/lib/x86_64-linux-gnu PELAGOS_IN_VM=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /root
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# Container state lives on the VM's own tmpfs: 9p cannot hold overlay upper dirs.
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control; done
while read -r m; do insmod "$m" || echo "init: insmod $m failed"; done < /etc/modules-load
ip link set lo up 2>/dev/null
while read -r tag path; do
  mkdir -p "$path"
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 "$tag" "$path" || echo "init: mount $tag at $path failed"
done < /etc/shares
stty -F /dev/ttyS1 raw -echo
echo "PELAGOS-VM-READY $(cut -d' ' -f1 /proc/uptime)" > /dev/ttyS1
cd "$(cat /etc/cwd)"
sh /etc/cmd.sh > /dev/ttyS1 2>&1 < /dev/null
status=$?
echo "PELAGOS-VM-EXIT $status" > /dev/ttyS1
sync
# -no-reboot makes qemu exit on reset; reboot works without ACPI (faster boot with acpi=off).
reboot -f
