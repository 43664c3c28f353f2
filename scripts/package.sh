#!/usr/bin/env bash
# Builds the release binary and packs it the way the Terraform registry and
# filesystem mirrors expect, locally and in .github/workflows/release.yml:
#
#   dist/terraform-provider-route53delegation_VERSION_OS_ARCH.zip
#        holding terraform-provider-route53delegation_vVERSION[.exe]
#   dist/terraform-provider-route53delegation_VERSION_SHA256SUMS
#        (every VERSION zip in dist/, and the manifest)
#   dist/terraform-provider-route53delegation_VERSION_SHA256SUMS.sig
#        (with --sign: detached, binary GPG signature of the SHA256SUMS)
#   dist/terraform-provider-route53delegation_VERSION_manifest.json
#
# Usage:
#   scripts/package.sh [VERSION] [PLATFORM] [--no-sums] [--sign KEYID] [--install-mirror DIR]
#   scripts/package.sh [VERSION] --sums-only [--sign KEYID]
#
#   VERSION                default: the workspace version in Cargo.toml
#   --target TRIPLE        the Rust target to build, e.g. aarch64-apple-darwin
#   --os OS --arch ARCH    or the registry's platform: darwin, linux, windows
#                          on amd64 or arm64 (default: this machine's)
#   --no-sums              package the zip only (the release workflow's build
#                          jobs; the release job writes the sums)
#   --sums-only            build nothing: write SHA256SUMS over the zips of
#                          VERSION in dist/, and the manifest
#   --sign KEYID           sign the SHA256SUMS with gpg (GPG_PASSPHRASE, when
#                          set, unlocks the key)
#   --install-mirror DIR   install the zip into the filesystem mirror DIR
#
# A platform this machine cannot build is refused: another operating system,
# a target rustup has not installed, or a linux cross target without its
# linker (CARGO_TARGET_<TRIPLE>_LINKER).
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=terraform-provider-route53delegation
ADDRESS=registry.terraform.io/route53delegation/route53delegation
platform=
say() { printf '==> %s\n' "$*" >&2; }
die() {
  if [ -n "$platform" ]; then
    printf 'packaging %s (%s): %s\n' "$NAME" "$platform" "$*" >&2
  else
    printf 'packaging %s: %s\n' "$NAME" "$*" >&2
  fi
  exit 1
}

version='' mirror='' target='' os='' arch='' keyid='' sums=1 sums_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --install-mirror | --target | --os | --arch | --sign)
      [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"
      case $1 in
        --install-mirror) mirror=$2 ;;
        --target) target=$2 ;;
        --os) os=$2 ;;
        --arch) arch=$2 ;;
        --sign) keyid=$2 ;;
      esac
      shift 2 ;;
    --no-sums) sums=0; shift ;;
    --sums-only) sums_only=1; shift ;;
    -h | --help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$version" ] || die "more than one version given"; version=$1; shift ;;
  esac
done
if [ -z "$version" ]; then
  version=$(awk '/^\[workspace.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/, "", $0); sub(/version=/, "", $0); print; exit}' Cargo.toml)
  [ -n "$version" ] || die "no version in Cargo.toml [workspace.package]"
fi
semver='^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'
[[ $version =~ $semver ]] || die "version $version is not semantic (MAJOR.MINOR.PATCH[-PRE])"

zips_glob="${NAME}_${version}_*.zip"
sums_file="${NAME}_${version}_SHA256SUMS"
manifest="${NAME}_${version}_manifest.json"

# The SHA256SUMS over every zip of this version in dist/ and the manifest,
# then its signature when asked.
write_sums() {
  cp terraform-registry-manifest.json "dist/$manifest"
  local files=() f sha
  for f in dist/$zips_glob; do
    [ -e "$f" ] && files+=("${f#dist/}")
  done
  [ ${#files[@]} -gt 0 ] || die "no dist/$zips_glob to checksum"
  files+=("$manifest")
  if command -v sha256sum >/dev/null 2>&1; then sha=(sha256sum); else sha=(shasum -a 256); fi
  (cd dist && "${sha[@]}" "${files[@]}" >"$sums_file") || die "writing dist/$sums_file failed"
  say "dist/$sums_file (${#files[@]} files)"
  say "dist/$manifest"
  if [ -n "$keyid" ]; then
    command -v gpg >/dev/null 2>&1 || die "--sign needs gpg on PATH"
    rm -f "dist/$sums_file.sig"
    local gpg=(gpg --batch --yes --local-user "$keyid" --detach-sign --output "dist/$sums_file.sig")
    if [ -n "${GPG_PASSPHRASE:-}" ]; then
      printf '%s' "$GPG_PASSPHRASE" | "${gpg[@]}" --pinentry-mode loopback --passphrase-fd 0 "dist/$sums_file" ||
        die "gpg could not sign dist/$sums_file with key $keyid"
    else
      "${gpg[@]}" "dist/$sums_file" </dev/null || die "gpg could not sign dist/$sums_file with key $keyid"
    fi
    say "dist/$sums_file.sig (signed by $keyid)"
  fi
}

[ "$sums" = 1 ] || [ -z "$keyid" ] || die "--sign signs the SHA256SUMS, which --no-sums leaves out"
if [ "$sums_only" = 1 ]; then
  [ -z "$target$os$arch$mirror" ] || die "--sums-only builds nothing: no --target, --os, --arch or --install-mirror with it"
  mkdir -p dist
  write_sums
  exit 0
fi

# ------------------------------------------------------------ the platform
# The registry's OS_ARCH and the Rust target triple, each from the other.
triple_of() { # OS_ARCH -> triple
  case $1 in
    linux_amd64) echo x86_64-unknown-linux-gnu ;;
    linux_arm64) echo aarch64-unknown-linux-gnu ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64) echo x86_64-pc-windows-msvc ;;
    windows_arm64) echo aarch64-pc-windows-msvc ;;
    *) return 1 ;;
  esac
}
platform_of() { # triple -> OS_ARCH
  local a o
  case $1 in
    x86_64-*) a=amd64 ;;
    aarch64-*) a=arm64 ;;
    *) return 1 ;;
  esac
  case $1 in
    *-linux-*) o=linux ;;
    *-apple-darwin) o=darwin ;;
    *-windows-*) o=windows ;;
    *) return 1 ;;
  esac
  echo "${o}_${a}"
}

command -v rustc >/dev/null 2>&1 || die "rustc is not on PATH"
rustc_info=$(rustc -vV) || die "rustc -vV failed"
host=
while IFS= read -r line; do
  case $line in host:\ *) host=${line#host: } ;; esac
done <<<"$rustc_info"
[ -n "$host" ] || die "rustc -vV names no host target"
host_platform=$(platform_of "$host") || host_platform=$host

if [ -n "$target" ]; then
  [ -z "$os$arch" ] || die "give --target or --os/--arch, not both"
  platform=$(platform_of "$target") || { platform=$target; die "$target is not a platform the registry serves (darwin, linux, windows on amd64, arm64)"; }
elif [ -n "$os$arch" ]; then
  [ -n "$os" ] && [ -n "$arch" ] || die "--os and --arch go together"
  platform="${os}_${arch}"
  target=$(triple_of "$platform") || die "not a platform the registry serves (darwin, linux, windows on amd64, arm64)"
else
  platform=$host_platform
  target=$host
  platform_of "$target" >/dev/null || die "this machine's target $host is not a platform the registry serves"
fi

# Can this machine build it?
cross=0
if [ "$target" != "$host" ]; then
  cross=1
  [ "${platform%_*}" = "${host_platform%_*}" ] ||
    die "this machine is $host_platform; build on a ${platform%_*} machine (the release workflow has one per platform)"
  installed=$(rustup target list --installed 2>/dev/null) || die "rustup is needed to build for $target from $host"
  case $'\n'"$installed"$'\n' in
    *$'\n'"$target"$'\n'*) ;;
    *) die "the Rust target $target is not installed (rustup target add $target)" ;;
  esac
  if [ "${platform%_*}" = linux ]; then
    linker_var="CARGO_TARGET_$(printf '%s' "$target" | tr 'a-z-' 'A-Z_')_LINKER"
    [ -n "${!linker_var:-}" ] ||
      die "cross-linking $target from $host needs a linker: set $linker_var (e.g. aarch64-linux-gnu-gcc)"
  fi
fi

exe=
[ "${platform%_*}" = windows ] && exe=.exe
out_dir=${CARGO_TARGET_DIR:-target}
if [ "$cross" = 1 ]; then
  say "building $NAME $version for $platform ($target, release)"
  cargo build --release --locked -q -p "$NAME" --bin "$NAME" --target "$target" || die "cargo build failed"
  bin="$out_dir/$target/release/$NAME$exe"
else
  say "building $NAME $version for $platform (release)"
  cargo build --release --locked -q -p "$NAME" --bin "$NAME" || die "cargo build failed"
  bin="$out_dir/release/$NAME$exe"
fi
[ -f "$bin" ] || die "the build left no $bin"

mkdir -p dist
zip="${NAME}_${version}_${platform}.zip"
inner="${NAME}_v${version}$exe"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$bin" "$stage/$inner"
chmod 0755 "$stage/$inner"
# Fixed timestamps, so the same binary always gives the same archive.
TZ=UTC touch -t 198001020000.00 "$stage/$inner"
rm -f "dist/$zip"
if command -v zip >/dev/null 2>&1; then
  (cd "$stage" && TZ=UTC zip -q -X "$OLDPWD/dist/$zip" "$inner") || die "zip failed"
elif command -v 7z >/dev/null 2>&1; then
  (cd "$stage" && 7z a -tzip -bso0 -bsp0 "$OLDPWD/dist/$zip" "$inner") || die "7z failed"
else
  die "neither zip nor 7z is on PATH"
fi
say "dist/$zip"

if [ "$sums" = 1 ]; then
  write_sums
fi

if [ -n "$mirror" ]; then
  dest="$mirror/$ADDRESS"
  mkdir -p "$dest"
  cp "dist/$zip" "$dest/"
  say "installed into the filesystem mirror: $dest/$zip"
fi
