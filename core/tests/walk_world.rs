//! Finding a name's parent by walking the authoritative chain from the root
//! (no credentials, no resolver cache), against the world: a parent in the
//! Route 53 emulator and a parent on Knot.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod support;

use std::time::Duration;

use r53world::PARENT_ACCOUNT;
use route53delegation::dns::{AddressResolver, DnsClient};
use route53delegation::walk::{find_parent, ParentFound, WalkError};
use route53delegation::{CancellationToken, DomainName, NsSet};
use support::*;

fn client() -> DnsClient {
    DnsClient::new(Duration::from_millis(800), 1)
}

fn n(s: &str) -> DomainName {
    DomainName::parse(s).unwrap()
}

/// Walks to `name`'s parent from the world's root server.
async fn walk(f: &Fixture, name: &str) -> Result<ParentFound, WalkError> {
    let resolver = AddressResolver::new(vec![f.world.resolver()]);
    find_parent(&n(name), &[f.world.root_server()], &client(), &resolver).await
}

/// A delegation made by the engine is found from the root: the parent zone,
/// its own name servers as the TLD refers to them, and the child servers the
/// parent refers the name to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route53_delegation_is_found_from_the_root() {
    let f = fixture().await;
    let applied = f
        .engine
        .apply(
            &spec("api.example.com"),
            None,
            Duration::from_secs(60),
            &CancellationToken::new(),
        )
        .await
        .expect("apply");
    let found = walk(&f, "api.example.com").await.expect("walk");
    assert_eq!(found.parent_zone, n("example.com"));
    assert_eq!(found.chain, vec![".", "com", "example.com"]);
    let parent_ns = f
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == f.parent_zone_id)
        .unwrap()
        .name_servers;
    assert_eq!(found.parent_name_servers, NsSet::parse(&parent_ns).unwrap());
    assert_eq!(found.delegated_to, Some(applied.state.name_servers.clone()));

    // A name nobody delegated: the parent answers for it itself.
    let found = walk(&f, "nothing.example.com").await.expect("walk");
    assert_eq!(found.parent_zone, n("example.com"));
    assert_eq!(found.delegated_to, None);

    // Deeper than the delegation: the child zone is the parent.
    let found = walk(&f, "www.api.example.com").await.expect("walk");
    assert_eq!(found.parent_zone, n("api.example.com"));
    assert_eq!(found.parent_name_servers, applied.state.name_servers);
}

/// A parent outside Route 53 (Knot serving example.net) is found the same
/// way; a TLD has no parent to check; unreachable roots are an error that
/// names what was asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_knot_parent_and_the_edges() {
    let f = fixture().await;
    let resolver = AddressResolver::new(vec![f.world.resolver()]);
    let found = walk(&f, "team.example.net").await.expect("walk");
    assert_eq!(found.parent_zone, n("example.net"));
    assert_eq!(found.chain, vec![".", "net", "example.net"]);
    assert!(!found.parent_name_servers.is_empty());
    assert_eq!(found.delegated_to, None);

    let e = walk(&f, "com").await.unwrap_err();
    assert!(matches!(e, WalkError::NoParent(_)), "{e}");

    // A loopback address where nothing listens.
    let silent = "127.0.0.1:1".parse().unwrap();
    let e = find_parent(&n("api.example.com"), &[silent], &client(), &resolver)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, WalkError::Unreachable { .. }), "{text}");
    assert!(
        text.contains("no name server of . answered for api.example.com"),
        "{text}"
    );
}
