#!/bin/sh
# /init of the AppArmor test guest. Results go to the second serial port (ttyS1).
# pivot_root(2) refuses the initramfs root (rootfs), so first move everything onto a
# tmpfs and switch_root into it, as a real system's initramfs would.
if [ ! -e /.stage2 ]; then
  mkdir -p /newroot
  mount -t tmpfs -o mode=0755 tmpfs /newroot
  for d in bin sbin etc lib lib64 usr profiles tokens var; do [ -e /$d ] && cp -a /$d /newroot/; done
  mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run
  cp /init /newroot/init
  touch /newroot/.stage2
  exec switch_root /newroot /init
fi
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
mount -t tmpfs tmpfs /tmp
for m in crc32c_generic libcrc32c nfnetlink nf_tables; do insmod /lib/modules/$m.ko 2>/dev/null; done
OUT=/dev/ttyS1
. /tokens/keys.env
export ARBITER_TOKEN_SECRET GOVERNANCE_SIGNING_KEY_SANDBOX
export NONAXIS_SANDBOX_STATE_DIR=/var/lib/nonaxis NONAXIS_SANDBOX_PROFILES=/profiles
echo "LSM $(cat /sys/kernel/security/lsm 2>/dev/null)" > $OUT
chmod 0755 /var /var/lib

result() { # name, pass-condition-exit-status
  if [ "$2" = 0 ]; then echo "RESULT $1 PASS" > $OUT; else echo "RESULT $1 FAIL" > $OUT; fi
}
/bin/nonaxis-sandbox load-apparmor > /tmp/load.log 2>&1
result load-profiles-enforce $?
grep -q 'nonaxis-sandbox-exec (enforce)' /sys/kernel/security/apparmor/profiles 2>/dev/null
result profile-in-enforce-mode $?

# 1. Enforce mode: the profile grants no /proc/sys; the probe must be denied, and the
#    record must name AppArmor (not Landlock) as the active MAC layer.
DOC=$(/bin/nonaxis-sandbox run --json --token /tokens/t1.json --file /bin/probe -- read-host-file /proc/sys/kernel/osrelease 2>/tmp/err1.log)
echo "$DOC" | grep -q 'BLOCKED read-host-file'; result enforce-denies-proc-sys $?
echo "$DOC" | grep -q '"mac":{"kind":"apparmor"'; result record-reports-apparmor $?
echo "$DOC" | grep -q '"landlock"'; [ $? != 0 ]; result record-does-not-report-landlock $?
# 2. Positive control under the same profile: the workspace stays writable.
DOC=$(/bin/nonaxis-sandbox run --json --token /tokens/t2.json --file /bin/probe -- write-workspace 2>/tmp/err2.log)
echo "$DOC" | grep -q 'OK write-workspace'; result enforce-allows-workspace $?
# 3. A token's allowed_paths under AppArmor: the sandbox generates and loads a profile
#    adding exactly the grant (the fixed profile knows no /srv), so the granted file is
#    readable, the read-only grant refuses writes, and the record names that profile.
mkdir -p /srv/in && echo granted > /srv/in/data.txt && chmod 0755 /srv /srv/in && chmod 0644 /srv/in/data.txt
DOC=$(/bin/nonaxis-sandbox run --json --token /tokens/t4.json --file /bin/probe -- read-path /srv/in/data.txt 2>/tmp/err4.log)
echo "$DOC" | grep -q 'OK read-path'; result apparmor-grant-readable $?
echo "$DOC" | grep -q '"profile":"nonaxis-sandbox-exec-p'; result record-reports-grant-profile $?
DOC=$(/bin/nonaxis-sandbox run --json --token /tokens/t5.json --file /bin/probe -- write-host-file /srv/in/new.txt 2>/tmp/err5.log)
echo "$DOC" | grep -q 'BLOCKED write-host-file'; result apparmor-grant-read-only $?
# 4. Same profile in complain mode: the read succeeds, so enforce mode is what blocked it.
/bin/nonaxis-sandbox load-apparmor --complain > /tmp/load2.log 2>&1
DOC=$(/bin/nonaxis-sandbox run --json --token /tokens/t3.json --file /bin/probe -- read-host-file /proc/sys/kernel/osrelease 2>/tmp/err3.log)
echo "$DOC" | grep -q 'ESCAPED read-host-file'; result complain-mode-allows $?
for f in /tmp/load.log /tmp/err1.log /tmp/err2.log /tmp/err4.log; do sed 's/^/LOG /' $f | head -5 > $OUT; done
echo DONE > $OUT
poweroff -f
