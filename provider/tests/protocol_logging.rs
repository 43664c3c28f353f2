//! hclog JSON log format and level selection.

use route53delegation_provider::protocol::logging::{filter_directive, hclog_timestamp};

#[test]
fn level_comes_from_tf_log_provider_then_tf_log() {
    assert_eq!(filter_directive(None, None), "warn");
    assert_eq!(filter_directive(None, Some("INFO")), "info");
    assert_eq!(filter_directive(Some("error"), Some("trace")), "error");
    assert_eq!(filter_directive(Some(""), Some("off")), "off");
    let trace = filter_directive(None, Some("JSON"));
    assert!(trace.starts_with("trace,"), "{trace}");
    assert!(
        trace.contains("h2=info") && trace.contains("hyper=info"),
        "{trace}"
    );
    assert!(filter_directive(None, Some("bogus")).starts_with("trace"));
}

#[test]
fn timestamp_matches_hclog_layout() {
    let t = time::macros::datetime!(2026-12-01 19:44:17.295123 UTC);
    assert_eq!(hclog_timestamp(t), "2026-12-01T19:44:17.295123Z");
}
