//! The two parents of `route53delegation_link` outside Route 53: the
//! `parent.dns_update` and `parent.manual` blocks (schema, parsing with
//! attribute paths) and their import IDs.

use route53delegation::dns::parse_resolver;
use route53delegation::inspect::default_roots;
use route53delegation::parent::{
    DnsUpdateParent, ManualParent, ParentKind, TsigAlgorithm, TsigKey, TsigKeyError,
};
use route53delegation::DomainName;

use crate::protocol::{
    Attribute, AttributePath, Block, Diagnostic, NestedBlock, NestingMode, Type, Value,
};

/// The `parent.dns_update` block.
pub fn dns_update_block() -> NestedBlock {
    let algs = TsigAlgorithm::ALL.map(|(n, _)| format!("`{n}`")).join(", ");
    NestedBlock::new(
        "dns_update",
        NestingMode::Single,
        Block::new()
            .description("The parent zone is on a DNS server that accepts RFC 2136 dynamic updates signed with TSIG (BIND, Knot, PowerDNS, Windows DNS with TSIG, ...). The NS record is written with a compare-and-swap made of update prerequisites, so another writer's record is never overwritten unless `allow_overwrite`; the key is checked at plan time with an update that changes nothing. Instead of `zone_id`/`zone_name`; the account settings of `parent` do not apply.")
            .attribute(Attribute::new("server", Type::String).required().description("The zone's primary server, `ADDRESS` or `ADDRESS:PORT` (port 53 by default), e.g. `192.0.2.53` or `[2001:db8::53]:53`. Updates go over TCP."))
            .attribute(Attribute::new("zone", Type::String).required().description("The parent zone, e.g. `example.net`; `name` must be under it."))
            .attribute(Attribute::new("key_name", Type::String).required().description("Name of the TSIG key, as the server knows it (e.g. `update-key`)."))
            .attribute(Attribute::new("key_algorithm", Type::String).optional().description(format!("TSIG algorithm: {algs}. Default `hmac-sha256`.")))
            .attribute(Attribute::new("key_secret", Type::String).required().sensitive().description("The key's secret, base64, as in the server's key file. Sensitive: never shown in plan output or logs; Terraform keeps it in state like every configured attribute (Read needs it there), so protect the state.")),
    )
}

/// The `parent.manual` block.
pub fn manual_block() -> NestedBlock {
    NestedBlock::new(
        "manual",
        NestingMode::Single,
        Block::new()
            .description("The parent zone is at a registrar (or any DNS without an API this provider speaks): apply creates or adopts the child zone, gives the NS set to enter at the registrar as a warning and in `registrar_instructions`, then waits up to `verify.timeout` until the parent's servers, found by walking from the root servers, refer `name` to exactly those servers. A first apply that runs out of time succeeds with a warning and `verification.status = \"pending\"` (so the zone is not tainted and replaced); the next plan shows a change and the next apply waits again, and fails if the time runs out again. Destroy refuses to delete a zone this link created while the registrar still delegates to it. Instead of `zone_id`/`zone_name`; the account settings of `parent` do not apply.")
            .attribute(Attribute::new("zone", Type::String).required().description("The parent zone at the registrar, e.g. `example.org`; `name` must be under it, and the walk from the root must find the delegation there."))
            .attribute(Attribute::new("root_servers", Type::list(Type::String)).optional().description("Root servers the walk starts from (`ADDRESS` or `ADDRESS:PORT`). Default: the IANA root servers."))
            .attribute(Attribute::new("destroy_while_delegated", Type::Bool).optional().description("Destroy deletes the zone this link created even while the registrar still delegates to it, leaving a dangling delegation (resolvers then get SERVFAIL, and anyone who later gets those name servers could answer for the name). Default `false`: destroy refuses and names the NS records to remove at the registrar first.")),
    )
}

/// The parsed parent kind, or diagnostics (with `incomplete` for unknowns).
#[derive(Debug)]
pub struct Parsed {
    /// `Some` when a `dns_update` or `manual` block is set and valid.
    pub kind: Option<ParentKind>,
    /// True when one of the two blocks is set (even if invalid).
    pub set: bool,
    /// Unknown values met.
    pub incomplete: bool,
    /// Errors, with attribute paths.
    pub diags: Vec<Diagnostic>,
}

fn s(v: &Value, k: &str, incomplete: &mut bool) -> Option<String> {
    match v.get(k) {
        Some(Value::Unknown) => {
            *incomplete = true;
            None
        }
        Some(Value::String(x)) => Some(x.clone()),
        _ => None,
    }
}

fn is_set(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null))
}

/// Parses `parent.dns_update` / `parent.manual` of the parent block `p`,
/// checking them against the rest of the block and `name`.
pub fn parse(p: &Value, name: Option<&DomainName>) -> Parsed {
    let ppath = AttributePath::attr("parent");
    let mut out = Parsed {
        kind: None,
        set: false,
        incomplete: false,
        diags: Vec::new(),
    };
    let upd = p.get("dns_update");
    let man = p.get("manual");
    if matches!(upd, Some(Value::Unknown)) || matches!(man, Some(Value::Unknown)) {
        out.incomplete = true;
        out.set = true;
        return out;
    }
    let (block, which) = match (is_set(upd), is_set(man)) {
        (false, false) => return out,
        (true, true) => {
            out.set = true;
            out.diags.push(
                Diagnostic::error(
                    "Conflicting parent",
                    "set only one of parent.dns_update and parent.manual",
                )
                .with_attribute(ppath.then_attr("manual")),
            );
            return out;
        }
        (true, false) => (upd.unwrap_or(&Value::Null), "dns_update"),
        (false, true) => (man.unwrap_or(&Value::Null), "manual"),
    };
    out.set = true;
    for k in ["zone_id", "zone_name"] {
        if is_set(p.get(k)) {
            out.diags.push(
                Diagnostic::error(
                    "Conflicting parent",
                    format!("parent.{k} names a Route 53 hosted zone, and parent.{which} a zone outside Route 53; set only one of them"),
                )
                .with_attribute(ppath.clone().then_attr(k)),
            );
        }
    }
    for k in ["region", "profile", "assume_role"] {
        if is_set(p.get(k)) {
            out.diags.push(
                Diagnostic::error(
                    "Setting does not apply",
                    format!("parent.{k} selects an AWS account, but with parent.{which} the parent zone is not in AWS; remove parent.{k} (the child block holds the child's account settings)"),
                )
                .with_attribute(ppath.clone().then_attr(k)),
            );
        }
    }
    let bpath = ppath.clone().then_attr(which);
    let inc = &mut out.incomplete;
    let zone = s(block, "zone", inc).and_then(|z| match DomainName::parse(&z) {
        Ok(n) => Some(n),
        Err(e) => {
            out.diags.push(
                Diagnostic::error(
                    "Invalid zone name",
                    format!("{e}; expected a zone such as example.net"),
                )
                .with_attribute(bpath.clone().then_attr("zone")),
            );
            None
        }
    });
    if let (Some(n), Some(z)) = (name, &zone) {
        if !n.is_strict_subdomain_of(z) {
            out.diags.push(
                Diagnostic::error(
                    "Name not under the parent zone",
                    format!("name {n} is not a subdomain of parent.{which}.zone {z}; expected a name such as api.{z}"),
                )
                .with_attribute(AttributePath::attr("name")),
            );
        }
    }
    if which == "manual" {
        let mut roots = Vec::new();
        match block.get("root_servers") {
            Some(Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(x) => match parse_resolver(x) {
                            Ok(a) => roots.push(a),
                            Err(_) => out.diags.push(
                                Diagnostic::error(
                                    "Invalid root server",
                                    format!("{x:?} is not an address; expected an IP address with an optional port, such as 198.41.0.4 or 127.0.0.1:53"),
                                )
                                .with_attribute(bpath.clone().then_attr("root_servers").then_index(i as i64)),
                            ),
                        },
                        _ => out.incomplete = true,
                    }
                }
            }
            Some(Value::Unknown) => out.incomplete = true,
            _ => roots = default_roots(),
        }
        let destroy_while_delegated = match block.get("destroy_while_delegated") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Unknown) => {
                out.incomplete = true;
                false
            }
            _ => false,
        };
        if out.diags.is_empty() && !out.incomplete {
            out.kind = zone.map(|zone| {
                ParentKind::Manual(ManualParent {
                    zone,
                    roots,
                    destroy_while_delegated,
                })
            });
        }
        return out;
    }
    let inc = &mut out.incomplete;
    let server_raw = s(block, "server", inc);
    let key_name = s(block, "key_name", inc);
    let key_alg = s(block, "key_algorithm", inc);
    let key_secret = s(block, "key_secret", inc);
    let server = server_raw.and_then(|x| match parse_resolver(&x) {
        Ok(a) => Some(a),
        Err(_) => {
            out.diags.push(
                Diagnostic::error(
                    "Invalid server",
                    format!("{x:?} is not an address; expected the primary server's IP address with an optional port, such as 192.0.2.53 or 192.0.2.53:53"),
                )
                .with_attribute(bpath.clone().then_attr("server")),
            );
            None
        }
    });
    let algorithm_given = matches!(block.get("key_algorithm"), Some(Value::String(_)));
    let key = match (&key_name, &key_secret) {
        (Some(n), Some(sec)) => {
            match TsigKey::parse(n, key_alg.as_deref().unwrap_or("hmac-sha256"), sec) {
                Ok(k) => Some(k),
                Err(e) => {
                    let attr = match e {
                        TsigKeyError::Name(_) => "key_name",
                        TsigKeyError::Algorithm(_) if algorithm_given => "key_algorithm",
                        TsigKeyError::Algorithm(_) => "key_name",
                        _ => "key_secret",
                    };
                    out.diags.push(
                        Diagnostic::error("Invalid TSIG key", e.to_string())
                            .with_attribute(bpath.clone().then_attr(attr)),
                    );
                    None
                }
            }
        }
        _ => None,
    };
    if out.diags.is_empty() && !out.incomplete {
        if let (Some(server), Some(zone), Some(key)) = (server, zone, key) {
            out.kind = Some(ParentKind::DnsUpdate(DnsUpdateParent { server, zone, key }));
        }
    }
    out
}

/// The `registrar_instructions` value for a state: the NS set to enter at
/// the registrar, for a manual parent whose child zone exists.
pub fn registrar_instructions(name: &DomainName, st: &route53delegation::LinkState) -> Value {
    if !st
        .parent_zone_id
        .starts_with(route53delegation::parent::MANUAL_PREFIX)
        || st.name_servers.is_empty()
    {
        return Value::Null;
    }
    Value::String(route53delegation::parent::registrar::instructions(
        name,
        &st.parent_zone_name,
        &st.name_servers,
    ))
}

/// Import IDs for the parents outside Route 53:
///
/// - `NAME@dns-update:SERVER/ZONE?key_name=K&key_secret_env=VAR[&key_algorithm=A][&child_...]`
/// - `NAME@manual:ZONE[?root_servers=A,B][&child_...]`
///
/// The secret is never typed into the ID (Terraform prints it): it comes
/// from the environment variable `key_secret_env` names. Child keys are
/// those of the long import ID (`child_role_arn`, `child_zone_id`, ...).
/// Returns `None` when `id` is not of these forms.
pub fn import_kv(id: &str) -> Option<Result<ImportedParent, String>> {
    let (name, rest) = id.split_once('@')?;
    let (kind, rest) = if let Some(r) = rest.strip_prefix("dns-update:") {
        ("dns-update", r)
    } else if let Some(r) = rest.strip_prefix("manual:") {
        ("manual", r)
    } else {
        return None;
    };
    Some(import_parts(name, kind, rest))
}

/// The parent block and child keys an import ID gives.
#[derive(Debug)]
pub struct ImportedParent {
    /// `name`.
    pub name: String,
    /// `(dns_update, manual)` block values.
    pub dns_update: Value,
    /// The `manual` block.
    pub manual: Value,
    /// Other keys (`child_*`), for the long-form machinery.
    pub rest: std::collections::BTreeMap<String, String>,
}

fn import_parts(name: &str, kind: &str, rest: &str) -> Result<ImportedParent, String> {
    let (target, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut kv: std::collections::BTreeMap<String, String> = Default::default();
    for part in query.split('&').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?} is not key=value"))?;
        if kv
            .insert(k.trim().to_string(), v.trim().to_string())
            .is_some()
        {
            return Err(format!("key {k:?} appears twice"));
        }
    }
    let take = |kv: &mut std::collections::BTreeMap<String, String>, k: &str| kv.remove(k);
    let (dns_update, manual) = if kind == "dns-update" {
        let (server, zone) = target.rsplit_once('/').ok_or_else(|| {
            format!("{target:?} is not SERVER/ZONE (e.g. 192.0.2.53:53/example.net)")
        })?;
        let key_name = take(&mut kv, "key_name").ok_or("the key_name key is missing")?;
        if kv.contains_key("key_secret") {
            return Err("the secret is never typed into an import ID (Terraform prints it): put it in an environment variable and name it with key_secret_env".into());
        }
        let var = take(&mut kv, "key_secret_env").ok_or("the key_secret_env key is missing (the name of an environment variable holding the base64 secret)")?;
        let secret = std::env::var(&var).map_err(|_| {
            format!("key_secret_env names the environment variable {var:?}, which is not set in Terraform's environment")
        })?;
        let alg = take(&mut kv, "key_algorithm");
        (
            Value::object([
                ("server", Value::string(server)),
                ("zone", Value::string(zone)),
                ("key_name", Value::String(key_name)),
                (
                    "key_algorithm",
                    alg.map(Value::String).unwrap_or(Value::Null),
                ),
                ("key_secret", Value::String(secret)),
            ]),
            Value::Null,
        )
    } else {
        let roots = take(&mut kv, "root_servers").map(|r| {
            Value::List(
                r.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(Value::string)
                    .collect(),
            )
        });
        (
            Value::Null,
            Value::object([
                ("zone", Value::string(target)),
                ("root_servers", roots.unwrap_or(Value::Null)),
                ("destroy_while_delegated", Value::Null),
            ]),
        )
    };
    const CHILD_KEYS: [&str; 9] = [
        "child_zone_id",
        "child_region",
        "child_profile",
        "child_role_arn",
        "child_session_name",
        "child_external_id",
        "child_external_id_env",
        "child_duration",
        "child_role_duration",
    ];
    if let Some(k) = kv.keys().find(|k| !CHILD_KEYS.contains(&k.as_str())) {
        return Err(format!("unknown key {k:?}"));
    }
    Ok(ImportedParent {
        name: name.to_string(),
        dns_update,
        manual,
        rest: kv,
    })
}
