//! Identifiers and timestamps as the API writes them: random IDs of zones,
//! changes and credentials, ISO 8601 times.

use rand::Rng;

pub(super) fn random_id(prefix: char, len: usize) -> String {
    const CH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let mut s = String::with_capacity(len + 1);
    s.push(prefix);
    for _ in 0..len {
        s.push(CH[rng.random_range(0..CH.len())] as char);
    }
    s
}

pub fn format_time(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}
