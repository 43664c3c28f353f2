#!/usr/bin/env bash
# Checks the release packaging and signing offline, as the release workflow
# does them, on this machine's platform: packages the provider
# (scripts/package.sh), writes and signs the SHA256SUMS with a throwaway GPG
# key made in a temporary GNUPGHOME (no passphrase), then verifies the
# signature with gpg --verify, the sums with sha256sum -c, and the names the
# Terraform registry requires: OS_ARCH zips holding
# terraform-provider-route53delegation_vVERSION, the _SHA256SUMS listing
# every zip and the manifest, the binary _SHA256SUMS.sig and the
# _manifest.json. It also checks that a platform this machine cannot build is
# refused with a message naming it. Leaves dist/ with the signed release.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'check-signing: %s\n' "$*" >&2; exit 1; }

NAME=terraform-provider-route53delegation
command -v gpg >/dev/null 2>&1 || die "gpg is not on PATH (Debian package gpg; scripts/setup.sh installs it)"
version=$(awk '/^\[workspace.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/, "", $0); sub(/version=/, "", $0); print; exit}' Cargo.toml)
[ -n "$version" ] || die "no version in Cargo.toml [workspace.package]"

tmp=$(mktemp -d)
export GNUPGHOME="$tmp/gnupg"
cleanup() {
  gpgconf --kill all >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -m 0700 "$GNUPGHOME"

say "a throwaway signing key in a temporary GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-generate-key \
  "route53delegation release check <release-check@example.invalid>" ed25519 sign 1d 2>"$tmp/keygen.log" ||
  { cat "$tmp/keygen.log" >&2; die "gpg could not generate a key"; }
listing=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null)
keyid=$(awk -F: '/^fpr:/ && !found {print $10; found=1}' <<<"$listing")
[ -n "$keyid" ] || die "the generated key has no fingerprint"

# Only zips of this version from this run count.
rm -f dist/"${NAME}_${version}"_*
say "packaging and signing with key $keyid"
scripts/package.sh "$version" --sign "$keyid"

zips=(dist/"${NAME}_${version}"_*.zip)
sums="dist/${NAME}_${version}_SHA256SUMS"
[ -e "${zips[0]}" ] || die "no zip in dist/"
[ -f "$sums" ] || die "no $sums"
[ -f "$sums.sig" ] || die "no $sums.sig"
cmp -s terraform-registry-manifest.json "dist/${NAME}_${version}_manifest.json" ||
  die "dist/${NAME}_${version}_manifest.json differs from terraform-registry-manifest.json"

# The signature: detached, binary (the registry takes no ASCII armour),
# made by the key, over exactly the SHA256SUMS.
first=$(od -An -c -N 16 "$sums.sig")
case $first in *BEGIN*) die "$sums.sig is ASCII-armoured; the registry wants a binary signature" ;; esac
gpg --batch --status-fd 1 --verify "$sums.sig" "$sums" >"$tmp/verify.status" 2>"$tmp/verify.log" ||
  { cat "$tmp/verify.log" >&2; die "gpg --verify rejects $sums.sig"; }
status=$(<"$tmp/verify.status")
[[ $status == *"VALIDSIG $keyid"* ]] || { printf '%s\n' "$status" >&2; die "$sums.sig is not a valid signature by $keyid"; }
cp "$sums" "$tmp/tampered"
printf '%064d  extra.zip\n' 0 >>"$tmp/tampered"
if gpg --batch --verify "$sums.sig" "$tmp/tampered" >/dev/null 2>&1; then
  die "the signature also verifies a changed SHA256SUMS"
fi
say "gpg --verify: good signature by $keyid; a changed SHA256SUMS is rejected"

(cd dist && sha256sum --quiet --strict -c "${NAME}_${version}_SHA256SUMS") || die "sha256sum -c: $sums does not match dist/"

# The names: every line of the sums is a zip of this version or the manifest,
# every zip is listed, and each zip holds exactly the versioned binary.
listed=()
while read -r _ file; do listed+=("$file"); done <"$sums"
want_manifest=0
for file in "${listed[@]}"; do
  if [ "$file" = "${NAME}_${version}_manifest.json" ]; then
    want_manifest=1
    continue
  fi
  [[ $file =~ ^${NAME}_${version//./\\.}_(darwin|linux|windows)_(amd64|arm64)\.zip$ ]] ||
    die "$sums lists $file, which is not NAME_VERSION_OS_ARCH.zip"
  os=${BASH_REMATCH[1]}
  exe=
  [ "$os" = windows ] && exe=.exe
  inside=$(unzip -Z1 "dist/$file") || die "dist/$file is not a zip"
  [ "$inside" = "${NAME}_v${version}$exe" ] || die "dist/$file holds [$inside], not ${NAME}_v${version}$exe"
done
[ "$want_manifest" = 1 ] || die "$sums does not list the manifest"
for z in "${zips[@]}"; do
  case " ${listed[*]} " in *" ${z#dist/} "*) ;; *) die "$sums does not list ${z#dist/}" ;; esac
done
say "names: ${listed[*]}"

# A platform of another operating system is refused, naming it.
other=darwin
[ "$(uname -s)" = Darwin ] && other=linux
if out=$(scripts/package.sh "$version" --os "$other" --arch arm64 --no-sums 2>&1); then
  die "package.sh built ${other}_arm64 on $(uname -s)"
fi
[[ $out == *"packaging $NAME (${other}_arm64): "* ]] || { printf '%s\n' "$out" >&2; die "the refusal does not name the platform"; }
say "refused: ${out##*$'\n'}"
say "packaging and signing checked"
