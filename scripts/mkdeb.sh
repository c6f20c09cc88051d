#!/usr/bin/env bash
# Build build/limpet_<version>_<arch>.deb (`make deb`): stage `make install DESTDIR=build/deb-root
# PREFIX=/usr`, add what only the package carries (/etc/limpet/limpet.json, copyright,
# changelog), strip and fix permissions as debhelper would, compute Depends with dpkg-shlibdeps,
# write DEBIAN/ with dpkg-gencontrol from packaging/debian/ and build with dpkg-deb.
# Needs dpkg-dev (dpkg-shlibdeps, dpkg-gencontrol); no fakeroot (dpkg-deb --root-owner-group).
# Usage: scripts/mkdeb.sh   (from make: MAKE is passed along)
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

make=${MAKE:-make}
pkg=packaging/debian
root=build/deb-root
meta=build/deb-meta

die() { echo "mkdeb: $*" >&2; exit 1; }

version=$(sed -n 's/^#define[[:space:]]*LIMPET_VERSION[[:space:]]*"\(.*\)"/\1/p' user/daemon/version.h)
[ -n "$version" ] || die "no LIMPET_VERSION in user/daemon/version.h"
chversion=$(dpkg-parsechangelog -l "$pkg/changelog" -S Version)
[ "$chversion" = "$version" ] ||
	die "packaging/debian/changelog is at $chversion, version.h at $version: add a changelog entry"
arch=$(dpkg --print-architecture)
deb=build/limpet_${version}_${arch}.deb

# the staged tree: exactly what `make install` lays out
rm -rf "$root" "$meta"
"$make" --no-print-directory install DESTDIR="$PWD/$root" PREFIX=/usr

# the configuration limpetd reads by default: the commented production example
[ -e "$root/etc/limpet/limpet.json" ] ||
	install -D -m 0644 examples/production.json "$root/etc/limpet/limpet.json"

doc=$root/usr/share/doc/limpet
install -D -m 0644 "$pkg/copyright" "$doc/copyright"
gzip -9n <"$pkg/changelog" >"$doc/changelog.gz"
install -D -m 0644 "$pkg/lintian-overrides" "$root/usr/share/lintian/overrides/limpet"

# man pages compressed (dh_compress); binaries stripped (dh_strip: no -dbgsym package here).
# The BPF objects keep their BTF and are not host ELF: left as they are.
if [ -d "$root/usr/share/man" ]; then
	find "$root/usr/share/man" -type f ! -name '*.gz' -exec gzip -9nf {} +
fi
elfs=()
while IFS= read -r -d '' f; do
	[ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	strip --remove-section=.comment --remove-section=.note --strip-unneeded "$f"
	elfs+=("$f")
done < <(find "$root/usr/bin" "$root/usr/sbin" -type f -perm -u+x -print0 2>/dev/null)
[ ${#elfs[@]} -gt 0 ] || die "no binaries in $root/usr/bin, $root/usr/sbin"

# permissions as dh_fixperms leaves them
chmod -R u+rwX,go=rX,a-s "$root"
find "$root/usr/share" -type f -exec chmod 0644 {} +

# every file under /etc is a conffile, and every conffile is shipped
diff <(cd "$root" && find etc -type f | sed 's|^|/|' | sort) <(sort "$pkg/conffiles") >/dev/null ||
	die "files under $root/etc and packaging/debian/conffiles differ:
$(diff <(cd "$root" && find etc -type f | sed 's|^|/|' | sort) <(sort "$pkg/conffiles"))"

# dpkg-shlibdeps and dpkg-gencontrol want a debian/ directory holding the package's tree
mkdir -p "$meta/debian" "$root/DEBIAN"
cp "$pkg/control" "$pkg/changelog" "$meta/debian/"
ln -s "$PWD/$root" "$meta/debian/limpet"
(
	cd "$meta"
	# (its "should already be installed in their package's directory" is about the symlink)
	dpkg-shlibdeps -Tdebian/substvars "${elfs[@]/#$root/debian/limpet}" \
		2> >(grep -v "should already be installed in their package's directory" >&2)
	echo 'misc:Depends=' >>debian/substvars
	dpkg-gencontrol -plimpet -P"$OLDPWD/$root" -Tdebian/substvars -fdebian/files
)
for f in conffiles postinst prerm postrm; do
	if [ -x "$pkg/$f" ]; then
		install -m 0755 "$pkg/$f" "$root/DEBIAN/$f"
	else
		install -m 0644 "$pkg/$f" "$root/DEBIAN/$f"
	fi
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/md5sums"

rm -f build/limpet_*_"$arch".deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "mkdeb: $deb"
dpkg-deb -f "$deb" Package Version Architecture Depends Installed-Size | sed 's/^/  /'
