//! Unit tests of the shared parent side: batch limits and rejections.

use super::batch::*;
use super::*;

fn queued(name: &str, n: usize) -> Queued {
    let values: Vec<String> = (0..n).map(|i| format!("ns-{i}.awsdns-00.com")).collect();
    Queued {
        write: Write {
            name: DomainName::parse(name).unwrap(),
            delete: None,
            create: Some(NsRecord {
                ttl: 300,
                values: NsSet::parse(&values).unwrap(),
            }),
            action: String::new(),
        },
        done: oneshot::channel().0,
    }
}

#[test]
fn batches_stay_within_route53s_value_limit() {
    // Failure mode: 300 links in one batch, refused as too big.
    let items = (0..300)
        .map(|i| queued(&format!("l{i}.example.com"), 4))
        .collect();
    let sizes: Vec<usize> = chunks(items).iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![250, 50]);
}

#[test]
fn a_rejection_names_the_record_it_is_about() {
    let msg = "[Tried to create resource record set [name='b.example.com.', type='NS'] but it already exists]";
    assert!(named_in(msg, &DomainName::parse("b.example.com").unwrap()));
    assert!(!named_in(msg, &DomainName::parse("a.example.com").unwrap()));
    assert!(!named_in(msg, &DomainName::parse("example.com").unwrap()));
}
