//! Unit tests of the model: INSYNC timing, name order, value validation,
//! pool names, operation names.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::records::{validate_value, RrType};
use super::{reversed_key, Operation, Pool, Records, Service, State, Zone};

fn empty_zone() -> Zone {
    Zone {
        id: "Z1".into(),
        name: "example.com.".into(),
        caller_ref: "r".into(),
        comment: None,
        private: false,
        vpcs: Vec::new(),
        ns: Vec::new(),
        records: Records::new(),
        tags: Default::default(),
        published: None,
        pending: VecDeque::new(),
        seq: 0,
    }
}

#[test]
fn insync_is_due_after_the_delay_plus_up_to_the_jitter() {
    let mut st = State::new(Duration::from_secs(60));
    st.insync_jitter = Duration::from_secs(10);
    let before = Instant::now();
    let dues: Vec<Duration> = (0..64)
        .map(|_| {
            let id = st.new_change("111111111111", &mut empty_zone(), None);
            st.changes[&id].due - before
        })
        .collect();
    let after = before.elapsed();
    let (min, max) = (dues.iter().min().unwrap(), dues.iter().max().unwrap());
    assert!(*min >= Duration::from_secs(60), "{min:?}");
    assert!(*max <= Duration::from_secs(70) + after, "{max:?}");
    // Spread out, not one instant: 64 uniform draws over 10 s.
    assert!(*max - *min > Duration::from_secs(5), "{min:?}..{max:?}");

    st.insync_jitter = Duration::ZERO;
    let id = st.new_change("111111111111", &mut empty_zone(), None);
    let d = st.changes[&id].due - Instant::now();
    assert!(d <= Duration::from_secs(60));
}

#[test]
fn reversed_key_orders_like_route53() {
    let mut v = [
        "b.example.com.",
        "example.com.",
        "a.example.net.",
        "z.a.example.com.",
    ];
    v.sort_by_key(|n| reversed_key(n));
    assert_eq!(
        v,
        [
            "example.com.",
            "z.a.example.com.",
            "b.example.com.",
            "a.example.net."
        ]
    );
}

#[test]
fn value_validation() {
    assert!(validate_value(RrType::A, "192.0.2.1").is_ok());
    assert!(validate_value(RrType::A, "not-an-ip").is_err());
    assert!(validate_value(RrType::Ns, "ns1.example.com.").is_ok());
    assert!(validate_value(RrType::Ns, "bad..name").is_err());
    assert!(validate_value(RrType::Txt, "\"hello world\"").is_ok());
}

#[test]
fn pool_names_are_route53_style() {
    let p = Pool::new(7, 16);
    assert_eq!(p.servers[0][0].0, "ns-17.awsdns-01.com.");
    assert_eq!(p.servers[3][1].0, "ns-1570.awsdns-02.co.uk.");
    assert_eq!(p.servers[2][15].1, Ipv4Addr::new(127, 7, 22, 16));
}

#[test]
fn operations_read_back_from_their_wire_names_and_nothing_else() {
    for op in Operation::ALL {
        assert_eq!(op.as_str().parse::<Operation>(), Ok(op));
        assert_eq!(op.to_string(), op.as_str());
    }
    let names: std::collections::HashSet<&str> =
        Operation::ALL.iter().map(|o| o.as_str()).collect();
    assert_eq!(names.len(), Operation::ALL.len(), "wire names are distinct");
    for bad in ["", "getchange", "GetChanges", "route53:GetChange"] {
        assert!(bad.parse::<Operation>().is_err(), "{bad:?} parsed");
    }
    assert_eq!(Operation::AssumeRole.service(), Service::Sts);
    assert_eq!(Operation::GetChange.service(), Service::Route53);
    assert_eq!(Operation::sts_action("AssumeRole"), Operation::AssumeRole);
    assert_eq!(Operation::sts_action("Nope"), Operation::UnknownSts);
}

/// Record types are typed but read, shown, serialized and sorted by their
/// names, as the API carries them and Route 53 orders a name's sets.
#[test]
fn record_types_read_and_sort_as_their_names() {
    let names: Vec<&str> = RrType::ALL.iter().map(|t| t.as_str()).collect();
    let mut sorted = RrType::ALL.to_vec();
    sorted.sort();
    assert_eq!(sorted.iter().map(|t| t.as_str()).collect::<Vec<_>>(), {
        let mut n = names.clone();
        n.sort_unstable();
        n
    });
    for t in RrType::ALL {
        assert_eq!(t.to_string().parse::<RrType>(), Ok(t));
        assert_eq!(serde_json::to_string(&t).expect("json"), format!("\"{t}\""));
    }
    assert!("RRSIG".parse::<RrType>().is_err());
    assert!(serde_json::from_str::<RrType>("\"ns\"").is_err());
    assert_eq!(
        RrType::from_dns(hickory_proto::rr::RecordType::TXT),
        Some(RrType::Txt)
    );
    assert_eq!(RrType::Spf.dns_type(), hickory_proto::rr::RecordType::TXT);
}
