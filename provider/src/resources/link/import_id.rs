//! The import ID, which has to carry everything Read needs, because Read
//! never sees the configuration.

use crate::protocol::Value;

/// Shown with every parse error.
pub const HELP: &str = "An import ID is either NAME@PARENT_ZONE_ID (the resource's id, when the provider's own credentials reach both accounts); NAME@dns-update:SERVER/ZONE?key_name=KEY&key_secret_env=VARIABLE[&key_algorithm=hmac-sha256][&child_role_arn=...] for a parent taking DNS updates (the secret comes from the environment variable, never from the ID); NAME@manual:ZONE[?root_servers=ADDR,ADDR][&child_role_arn=...] for a parent at a registrar; or semicolon-separated key=value pairs mirroring the configuration:\n  name=api.example.com;parent_zone_name=example.com;parent_role_arn=arn:aws:iam::111111111111:role/delegation-parent;child_role_arn=arn:aws:iam::222222222222:role/delegation-child\nKeys: name (required); parent_zone_id or parent_zone_name (one); child_zone_id (adopt that zone instead of the one found by name); parent_ and child_ followed by region, profile, role_arn, session_name, external_id_env (the name of an environment variable holding the external ID, so that it is not typed into the import ID), external_id or duration (role_duration, its name in 0.1.0, is still read).";

/// Rewrites configuration paths in a message into the import keys.
pub fn in_key_terms(detail: &str) -> String {
    let mut d = detail.to_string();
    for (path, key) in [
        ("parent.assume_role.role_arn", "parent_role_arn"),
        ("child.assume_role.role_arn", "child_role_arn"),
        ("parent.assume_role.duration", "parent_duration"),
        ("child.assume_role.duration", "child_duration"),
        ("parent.zone_id", "parent_zone_id"),
        ("parent.zone_name", "parent_zone_name"),
        ("child.zone_id", "child_zone_id"),
    ] {
        d = d.replace(path, key);
    }
    d
}

/// `parent_` and `child_` keys: the names of the attributes they stand for
/// (`assume_role.duration` is `duration`; `role_duration` is its deprecated
/// name from 0.1.0, still read).
const SIDE_KEYS: [&str; 8] = [
    "region",
    "profile",
    "role_arn",
    "session_name",
    "external_id",
    "external_id_env",
    "duration",
    "role_duration",
];

/// Parses an import ID into a resource object with the configured
/// attributes filled in.
pub fn parse(id: &str) -> Result<Value, String> {
    let id = id.trim();
    let mut kv: std::collections::BTreeMap<String, String> = Default::default();
    let mut external = None;
    if let Some(r) = super::parent::import_kv(id) {
        let p = r.map_err(|e| format!("{e}.\n\n{HELP}"))?;
        kv = p.rest.clone();
        kv.insert("name".into(), p.name.clone());
        external = Some(p);
    } else if !id.contains('=') {
        let Some((name, zone)) = id.split_once('@') else {
            return Err(format!("{id:?} is not an import ID.\n\n{HELP}"));
        };
        kv.insert("name".into(), name.into());
        kv.insert("parent_zone_id".into(), zone.into());
    } else {
        for part in id.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(format!("{part:?} is not key=value.\n\n{HELP}"));
            };
            let k = k.trim().to_string();
            let known = k == "name"
                || k == "parent_zone_id"
                || k == "parent_zone_name"
                || k == "child_zone_id"
                || SIDE_KEYS
                    .iter()
                    .any(|s| k == format!("parent_{s}") || k == format!("child_{s}"));
            if !known {
                return Err(format!("unknown key {k:?}.\n\n{HELP}"));
            }
            if kv.insert(k.clone(), v.trim().to_string()).is_some() {
                return Err(format!("key {k:?} appears twice.\n\n{HELP}"));
            }
        }
    }
    if !kv.contains_key("name") {
        return Err(format!("the name key is missing.\n\n{HELP}"));
    }
    for p in ["parent", "child"] {
        if let Some(var) = kv.remove(&format!("{p}_external_id_env")) {
            if kv.contains_key(&format!("{p}_external_id")) {
                return Err(format!(
                    "set only one of {p}_external_id and {p}_external_id_env.\n\n{HELP}"
                ));
            }
            let value = std::env::var(&var).map_err(|_| {
                format!("{p}_external_id_env names the environment variable {var:?}, which is not set in Terraform's environment.\n\n{HELP}")
            })?;
            kv.insert(format!("{p}_external_id"), value);
        }
    }
    let opt = |k: &str| {
        kv.get(k)
            .map(|v| Value::String(v.clone()))
            .unwrap_or(Value::Null)
    };
    let side = |p: &str| {
        let role = match kv.get(&format!("{p}_role_arn")) {
            Some(arn) => Value::object([
                ("role_arn", Value::String(arn.clone())),
                ("session_name", opt(&format!("{p}_session_name"))),
                ("external_id", opt(&format!("{p}_external_id"))),
                (
                    "duration",
                    match opt(&format!("{p}_duration")) {
                        Value::Null => opt(&format!("{p}_role_duration")),
                        v => v,
                    },
                ),
            ]),
            None => Value::Null,
        };
        vec![
            ("region".to_string(), opt(&format!("{p}_region"))),
            ("profile".to_string(), opt(&format!("{p}_profile"))),
            ("assume_role".to_string(), role),
        ]
    };
    if kv.keys().any(|k| {
        k.ends_with("_session_name") || k.ends_with("_external_id") || k.ends_with("_duration")
    }) && !kv.keys().any(|k| k.ends_with("_role_arn"))
    {
        return Err(format!(
            "session_name, external_id and duration need a role_arn.\n\n{HELP}"
        ));
    }
    for p in ["parent", "child"] {
        if kv.contains_key(&format!("{p}_duration"))
            && kv.contains_key(&format!("{p}_role_duration"))
        {
            return Err(format!(
                "{p}_role_duration is the deprecated name of {p}_duration; give {p}_duration only.\n\n{HELP}"
            ));
        }
    }
    let mut parent = side("parent");
    parent.push(("zone_id".into(), opt("parent_zone_id")));
    parent.push(("zone_name".into(), opt("parent_zone_name")));
    parent.push(("allow_overwrite".into(), Value::Null));
    let (dns_update, manual) = match external {
        Some(p) => (p.dns_update, p.manual),
        None => (Value::Null, Value::Null),
    };
    parent.push(("dns_update".into(), dns_update));
    parent.push(("manual".into(), manual));
    let mut child = side("child");
    child.push(("zone_id".into(), opt("child_zone_id")));
    child.push(("comment".into(), Value::Null));
    child.push(("tags".into(), Value::Null));
    child.push(("force_destroy".into(), Value::Null));
    Ok(Value::object([
        ("id".to_string(), Value::Null),
        ("name".to_string(), opt("name")),
        ("ttl".to_string(), Value::Null),
        ("parent".to_string(), Value::object(parent)),
        ("child".to_string(), Value::object(child)),
        ("verify".to_string(), Value::Null),
        ("timeouts".to_string(), Value::Null),
        ("child_zone_id".to_string(), Value::Null),
        ("parent_zone_id".to_string(), Value::Null),
        ("parent_zone_name".to_string(), Value::Null),
        ("name_servers".to_string(), Value::Null),
        ("delegated_name_servers".to_string(), Value::Null),
        ("registrar_instructions".to_string(), Value::Null),
        ("verification".to_string(), Value::Null),
    ]))
}
