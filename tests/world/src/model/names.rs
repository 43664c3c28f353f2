//! Names as the world compares and orders them: lower case with a trailing
//! dot, zone membership at label boundaries, Route 53's listing order.

/// Lower-case with a trailing dot.
pub fn normalize_name(name: &str) -> String {
    let mut n = name.trim().to_ascii_lowercase();
    if !n.ends_with('.') {
        n.push('.');
    }
    n
}

/// Sort key that orders names like Route 53: by reversed labels.
pub fn reversed_key(name: &str) -> String {
    let n = name.trim_end_matches('.');
    let mut labels: Vec<&str> = n.split('.').collect();
    labels.reverse();
    labels.join(".")
}

/// `name` equals `zone` or is below it at a label boundary (both normalized).
pub fn in_zone(name: &str, zone: &str) -> bool {
    zone == "." || name == zone || name.ends_with(&format!(".{zone}"))
}
