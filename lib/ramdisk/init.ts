/**
 * The ramdisk's /init: kiln's default part (mounts, modules, helpers for the flavours' fragments),
 * then every flavour's `init` fragment in flavour order, then a rescue shell if none took over.
 */

export interface InitFragment {
  readonly flavour: string;
  readonly text: string;
}

/** A udhcpc event script: configures the address, the default route and the resolver. */
export const UDHCPC_SCRIPT = `#!/bin/sh
# kiln ramdisk: udhcpc events
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    if [ -n "$router" ]; then
      for r in $router; do ip route replace default via "$r" dev "$interface" && break; done
    fi
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    echo "kiln ramdisk: $interface has $ip/\${mask:-24} (router \${router:-none})"
    ;;
esac
exit 0
`;

const DEFAULT_INIT = `#!/bin/sh
# kiln ramdisk /init: kiln's default part, then each flavour's init fragment in flavour order.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
/bin/busybox --install -s 2>/dev/null
mkdir -p /proc /sys /dev /run /tmp /mnt /var/log
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
echo 0 > /proc/sys/kernel/printk 2>/dev/null
echo "kiln ramdisk: init on kernel $(uname -r)"

# kiln_arg NAME: the value of NAME=VALUE on the kernel command line (empty if absent).
kiln_arg() {
  for kiln_word in $(cat /proc/cmdline); do
    case "$kiln_word" in "$1="*) echo "\${kiln_word#*=}"; return 0 ;; esac
  done
  return 1
}

# Modules (with their dependencies, from modules.dep), then wait for devices to settle.
for m in $(cat /etc/kiln/modules 2>/dev/null); do modprobe -q "$m" 2>/dev/null; done
mdev -s 2>/dev/null
sleep 1

# kiln_network_up: DHCP on every wired interface; 0 when at least one got an address.
kiln_network_up() {
  ip link set lo up
  kiln_net_ok=1
  for kiln_if in $(ls /sys/class/net); do
    [ "$kiln_if" = lo ] && continue
    ip link set "$kiln_if" up
    if udhcpc -i "$kiln_if" -n -q -t 10 -T 2 -s /etc/kiln/udhcpc.script 2>/dev/null; then kiln_net_ok=0; fi
  done
  return $kiln_net_ok
}

# kiln_poweroff: flush everything and switch the machine off.
kiln_poweroff() {
  sync
  poweroff -f
}
`;

const RESCUE = `
echo "kiln ramdisk: no init fragment took over; starting a shell on the console"
exec setsid cttyhack sh
`;

export function composeInit(fragments: readonly InitFragment[]): string {
  const parts = fragments.map((f) => `\n# ---- init fragment of flavour ${f.flavour} ----\n${f.text.replace(/^#!.*\n/, '').trimEnd()}\n`);
  return `${DEFAULT_INIT}${parts.join('')}${RESCUE}`;
}
