#!/usr/bin/env bash
# Package test (ctest label `package`): builds the Debian package with CPack into a temporary
# directory and inspects it: files, control fields, conffiles, maintainer scripts, the systemd
# unit's hardening, and `systemd-analyze verify` on the unit inside the unpacked package.
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }
# expect_line FILE LINE WHAT: FILE has LINE exactly (a whole line).
expect_line() { grep -qxF -- "$2" "$1" && pass "$3" || fail "$3: no line '$2' in $(basename "$1")"; }

[ -x "$build/auditship" ] || { echo "FAIL: $build/auditship is not built"; exit 1; }
for tool in cpack dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (scripts/deps.sh installs it)"; exit 1; }
done

# 1. Build the package (CPack runs the install rules into its own staging tree under $tmp).
if ! (cd "$build" && cpack -G DEB -B "$tmp/out" --config "$build/CPackConfig.cmake") >"$tmp/cpack.log" 2>&1; then
  cat "$tmp/cpack.log"
  echo "FAIL: cpack"
  exit 1
fi
deb=$(ls "$tmp"/out/auditship_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { cat "$tmp/cpack.log"; echo "FAIL: no .deb produced"; exit 1; }
pass "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# 2. Files (dpkg-deb -c): path and mode.
dpkg-deb -c "$deb" >"$tmp/contents"
contents() { awk '{print $1, $6}' "$tmp/contents"; }
contents >"$tmp/files"
expect_line "$tmp/files" "-rwxr-xr-x ./usr/bin/auditship" "binary in /usr/bin, executable"
expect_line "$tmp/files" "-rw-r----- ./etc/auditship/auditship.yaml" "config in /etc/auditship, not world-readable"
expect_line "$tmp/files" "-rw-r--r-- ./lib/systemd/system/auditship.service" "systemd unit"
expect_line "$tmp/files" "drwxr-xr-x ./var/lib/auditship/" "state directory"
expect_line "$tmp/files" "-rw-r--r-- ./usr/share/doc/auditship/queries.sql" "the seed's queries"
expect_line "$tmp/files" "-rw-r--r-- ./usr/share/doc/auditship/auditship-dashboard.json" "the Grafana dashboard"
if grep -q "usr/local\|/_CPack\|tests/\|bench" "$tmp/files"; then fail "stray files: $(grep 'usr/local\|tests/\|bench' "$tmp/files")"; fi

# 3. Control fields (dpkg-deb -I / -f).
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = auditship ] && pass "Package: auditship" || fail "Package is '$(field Package)'"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] && pass "Architecture" || fail "Architecture '$(field Architecture)'"
deps=$(field Depends)
# From dpkg-shlibdeps on the binary (zstd comes through librdkafka1; Hyperscan is Vectorscan on arm64).
for dep in adduser librdkafka1 libsqlite3-0 libyaml-cpp0.7 "libhyperscan5|libvectorscan5" libsimdjson14 libssl3 \
           libc6 "libstdc\\+\\+6"; do
  grep -qE "(^|, )($dep)( |,|$)" <<<"$deps" && pass "Depends on $dep" || fail "Depends lacks $dep: $deps"
done
dpkg-deb -I "$deb" >"$tmp/info"
grep -q "Description: Ships OpenRouter audit logs" "$tmp/info" && pass "Description" || fail "Description missing"

# 4. Control archive (dpkg-deb -e): conffiles and maintainer scripts.
dpkg-deb -e "$deb" "$tmp/control"
expect_line "$tmp/control/conffiles" "/etc/auditship/auditship.yaml" "auditship.yaml is a conffile"
for script in postinst prerm postrm; do
  if [ -x "$tmp/control/$script" ] && sh -n "$tmp/control/$script"; then pass "$script executable, valid sh"
  else fail "$script missing, not executable or not valid sh"; fi
done
grep -q "adduser --system --group" "$tmp/control/postinst" && pass "postinst creates a system user" \
  || fail "postinst does not create the user"
grep -q "adduser auditship adm" "$tmp/control/postinst" && pass "postinst adds the user to adm" \
  || fail "postinst does not add the user to adm"
grep -q "install -d -o auditship -g auditship -m 0750 /var/lib/auditship" "$tmp/control/postinst" \
  && pass "postinst hands /var/lib/auditship to the user" || fail "postinst does not own the state dir"

# 5. The unit's content.
dpkg-deb -x "$deb" "$tmp/root"
unit="$tmp/root/lib/systemd/system/auditship.service"
for line in "User=auditship" "NoNewPrivileges=yes" "ProtectSystem=strict" "ReadWritePaths=/var/lib/auditship" \
            "PrivateTmp=yes" "CapabilityBoundingSet=" "Restart=on-failure" \
            'ExecReload=/bin/kill -HUP $MAINPID' "SupplementaryGroups=adm" \
            "ExecStart=/usr/bin/auditship run -c /etc/auditship/auditship.yaml" "WantedBy=multi-user.target"; do
  expect_line "$unit" "$line" "unit: $line"
done
cmp -s "$tmp/root/etc/auditship/auditship.yaml" "$src/conf/auditship.yaml" && pass "config is conf/auditship.yaml" \
  || fail "packaged config differs from conf/auditship.yaml"
if "$tmp/root/usr/bin/auditship" check -c "$tmp/root/etc/auditship/auditship.yaml" >/dev/null 2>"$tmp/check.err"; then
  pass "the packaged binary accepts the packaged config"
else
  fail "auditship check on the packaged config: $(cat "$tmp/check.err")"
fi

# 6. systemd-analyze verify, inside the unpacked package (--root) so /usr/bin/auditship is the
# packaged one; the host's own units (sysinit.target, ...) are copied in for the dependencies.
if command -v systemd-analyze >/dev/null; then
  cp -an /lib/systemd/system/. "$tmp/root/lib/systemd/system/" 2>/dev/null
  mkdir -p "$tmp/root/bin" && cp /bin/kill "$tmp/root/bin/kill"
  if systemd-analyze verify --root="$tmp/root" --man=no --generators=no "$unit" >"$tmp/verify.log" 2>&1 \
     && ! grep -q "auditship.service" "$tmp/verify.log"; then
    pass "systemd-analyze verify"
  else
    fail "systemd-analyze verify: $(cat "$tmp/verify.log")"
  fi
else
  echo "skip: systemd-analyze not installed (apt-get install systemd), unit not verified"
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "package OK"
