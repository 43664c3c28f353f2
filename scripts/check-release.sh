#!/usr/bin/env bash
# Checks the release packaging end to end, offline: packages the provider
# (scripts/package.sh), installs it into a temporary filesystem mirror, and
# inside a network namespace with only loopback runs `terraform init` on a
# configuration with an ordinary versioned required_providers entry (it must
# install from the mirror), then plan, apply, a clean plan and destroy of a
# link against a local world.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/world.sh
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'check-release: %s\n' "$*" >&2; exit 1; }
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

# ---------------------------------------------------------------- in the world
if [ "${1:-}" = "--in-world" ]; then
  tmp=$2 version=$3
  export TF_CLI_CONFIG_FILE="$tmp/mirror.tfrc" HOME="$tmp"
  cd "$tmp/config"
  terraform init -input=false -no-color >init.log 2>&1 || { cat init.log >&2; die "terraform init from the filesystem mirror failed"; }
  grep -q "Installed route53delegation/route53delegation v$version" init.log ||
    { cat init.log >&2; die "init did not install route53delegation/route53delegation v$version"; }
  grep -q "registry.terraform.io/route53delegation/route53delegation" .terraform.lock.hcl ||
    die "no lock entry for the provider"
  # Captured, then matched: `terraform providers | grep -q` under pipefail
  # fails by timing (grep exits at its match, Terraform dies of SIGPIPE).
  providers=$(terraform providers -no-color) || die "terraform providers failed"
  grep -q "provider\[registry.terraform.io/route53delegation/route53delegation\] $version" <<<"$providers" ||
    { printf '%s\n' "$providers" >&2; die "terraform providers does not show the pinned version"; }
  say "init installed v$version from the mirror, offline"
  cd - >/dev/null
  trap stop_world EXIT
  start_world "$tmp/world" 252
  tf_world_vars
  bootstrap_parent >/dev/null
  c=(terraform -chdir="$tmp/config")
  set +e
  "${c[@]}" plan -detailed-exitcode -input=false -no-color >"$tmp/plan.log" 2>&1
  code=$?
  set -e
  [ "$code" -eq 2 ] && grep -q "1 to add" "$tmp/plan.log" ||
    { cat "$tmp/plan.log" >&2; die "plan with the released provider exited $code (want 2, 1 to add)"; }
  say "plan with the released provider: 1 to add"
  "${c[@]}" apply -auto-approve -input=false -no-color >"$tmp/apply.log" 2>&1 || { cat "$tmp/apply.log" >&2; die "apply failed"; }
  grep -q 'status = "verified"' "$tmp/apply.log" || { cat "$tmp/apply.log" >&2; die "the link is not verified"; }
  "${c[@]}" plan -detailed-exitcode -input=false -no-color >"$tmp/plan2.log" 2>&1 || { cat "$tmp/plan2.log" >&2; die "plan after apply is not clean"; }
  "${c[@]}" destroy -auto-approve -input=false -no-color >"$tmp/destroy.log" 2>&1 || { cat "$tmp/destroy.log" >&2; die "destroy failed"; }
  say "apply (verified), clean plan and destroy with the released provider"
  exit 0
fi

start=$(date +%s)
version=$(awk '/^\[workspace.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/, "", $0); sub(/version=/, "", $0); print; exit}' Cargo.toml)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

scripts/package.sh "$version" --install-mirror "$tmp/mirror"
(cd dist && sha256sum --quiet -c "terraform-provider-route53delegation_${version}_SHA256SUMS") || die "SHA256SUMS do not match dist/"
cmp -s terraform-registry-manifest.json "dist/terraform-provider-route53delegation_${version}_manifest.json" || die "manifest in dist/ differs from terraform-registry-manifest.json"
entries=$(unzip -Z1 "dist/terraform-provider-route53delegation_${version}_linux_amd64.zip") || die "cannot list the zip"
[ "$entries" = "terraform-provider-route53delegation_v${version}" ] ||
  die "the zip holds ${entries//$'\n'/, }, not exactly terraform-provider-route53delegation_v${version}"

cat >"$tmp/mirror.tfrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$tmp/mirror"
    include = ["registry.terraform.io/route53delegation/*"]
  }
  direct {
    exclude = ["registry.terraform.io/route53delegation/*"]
  }
}
RC
mkdir -p "$tmp/config"
cat >"$tmp/config/main.tf" <<TF
terraform {
  required_providers {
    route53delegation = {
      source  = "route53delegation/route53delegation"
      version = "$version"
    }
  }
}

variable "route53_endpoint" { type = string }
variable "sts_endpoint" { type = string }
variable "dns_resolvers" { type = list(string) }
variable "verify_timeout" { type = string }

provider "route53delegation" {
  endpoints {
    route53 = var.route53_endpoint
    sts     = var.sts_endpoint
  }
  verify {
    resolvers = var.dns_resolvers
    timeout   = var.verify_timeout
  }
}

resource "route53delegation_link" "release" {
  name = "release.example.com"
  parent {
    zone_name = "example.com"
    assume_role {
      role_arn = "arn:aws:iam::111111111111:role/delegation-parent"
    }
  }
  child {
    assume_role {
      role_arn = "arn:aws:iam::222222222222:role/delegation-child"
    }
  }
}

output "status" {
  value = route53delegation_link.release.verification.status
}
TF
scripts/netns.sh "$0" --in-world "$tmp" "$version"
say "release packaging checked in $(( $(date +%s) - start ))s"
