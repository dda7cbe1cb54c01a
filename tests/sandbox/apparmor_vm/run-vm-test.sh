#!/bin/bash
# Proves the AppArmor layer in enforce mode on a machine whose kernel has no AppArmor:
# boots Debian's stock kernel (AppArmor built in) under qemu TCG with a small
# initramfs holding busybox, apparmor_parser, nonaxis-sandbox, the profiles and the
# probe, and runs the probe through nonaxis-sandbox inside the guest.
#
# usage: run-vm-test.sh SANDBOX_BIN PROBE_BIN PROFILES_DIR TOKENS_DIR APPARMOR(0|1) WORKDIR
#   TOKENS_DIR holds t1.json t2.json t3.json (probe-content tokens) and keys.env.
# exit 0 only if every guest check passed; with APPARMOR=0 the checks must fail.
set -euo pipefail
SANDBOX=$1 PROBE=$2 PROFILES=$3 TOKENS=$4 APPARMOR=$5 WORK=$6
CACHE=${NONAXIS_VM_CACHE:-/var/cache/nonaxis-vm}
mkdir -p "$CACHE" "$WORK"

# Debian's stock kernel: find the real package behind linux-image-amd64, download once.
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
DEB=$(ls "$CACHE"/"$KPKG"_*.deb 2>/dev/null | head -1 || true)
if [ -z "$DEB" ]; then (cd "$CACHE" && apt-get download "$KPKG" >/dev/null 2>&1); DEB=$(ls "$CACHE"/"$KPKG"_*.deb | head -1); fi
KVER=${KPKG#linux-image-}
if [ ! -f "$CACHE/$KVER/vmlinuz" ]; then
  mkdir -p "$CACHE/$KVER"
  dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$CACHE/$KVER" --wildcards './boot/vmlinuz-*' \
    './lib/modules/*/kernel/crypto/crc32c_generic.ko' './lib/modules/*/kernel/lib/libcrc32c.ko' \
    './lib/modules/*/kernel/net/netfilter/nfnetlink.ko' './lib/modules/*/kernel/net/netfilter/nf_tables.ko'
  cp "$CACHE/$KVER"/boot/vmlinuz-* "$CACHE/$KVER/vmlinuz"
fi

ROOT="$WORK/initramfs"
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,etc/apparmor.d,proc,sys,dev,tmp,run,lib/modules,profiles,tokens,var/lib}
cp /bin/busybox "$ROOT/bin/busybox"
for a in sh mount mkdir cat echo grep poweroff insmod ls sleep cp chmod tr sed switch_root touch head; do ln -s busybox "$ROOT/bin/$a"; done
cp -a /etc/apparmor.d/abi /etc/apparmor.d/abstractions /etc/apparmor.d/tunables "$ROOT/etc/apparmor.d/"
cp /sbin/apparmor_parser "$ROOT/sbin/apparmor_parser"
cp "$SANDBOX" "$ROOT/bin/nonaxis-sandbox"
cp "$PROBE" "$ROOT/bin/probe"
cp -a "$PROFILES"/. "$ROOT/profiles/"
cp "$TOKENS"/t*.json "$TOKENS/keys.env" "$ROOT/tokens/"
find "$CACHE/$KVER/lib/modules" -name '*.ko' -exec cp {} "$ROOT/lib/modules/" \;
# Each binary's shared libraries, at the same paths.
for b in /sbin/apparmor_parser "$SANDBOX" "$PROBE"; do
  ldd "$b" | awk '/=>/{print $3} /^\s*\/lib/{print $1}' | while read -r lib; do
    [ -n "$lib" ] && [ -f "$lib" ] && mkdir -p "$ROOT$(dirname "$lib")" && cp -L "$lib" "$ROOT$lib"
  done
done
mkdir -p "$ROOT/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$ROOT/lib64/"
cp "$(dirname "$0")/guest-init.sh" "$ROOT/init"
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$WORK/initrd.gz")

CMDLINE="console=ttyS0 panic=-1 quiet"
if [ "$APPARMOR" = 1 ]; then
  CMDLINE="$CMDLINE apparmor=1 security=apparmor lsm=landlock,lockdown,yama,apparmor,bpf"
else
  CMDLINE="$CMDLINE apparmor=0 lsm=landlock,lockdown,yama,bpf"
fi
rm -f "$WORK/console.log" "$WORK/results.log"
# timeout directly on qemu, so nothing is orphaned.
timeout -k 5 240 qemu-system-x86_64 -accel tcg -smp 1 -m 1024 -no-reboot -display none \
  -kernel "$CACHE/$KVER/vmlinuz" -initrd "$WORK/initrd.gz" -append "$CMDLINE" \
  -serial "file:$WORK/console.log" -serial "file:$WORK/results.log" || true

tr -d '\r' < "$WORK/results.log" > "$WORK/results.txt" || true
cat "$WORK/results.txt"
grep -q '^DONE$' "$WORK/results.txt" || { echo "guest did not finish (see $WORK/console.log)"; exit 2; }
if grep -q '^RESULT .* FAIL' "$WORK/results.txt"; then exit 1; fi
exit 0
