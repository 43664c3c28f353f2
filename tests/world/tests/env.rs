//! `World::env()` is enough for an SDK configured from the environment
//! (as Terraform runs the provider). One test per binary: it sets process
//! environment variables.

mod common;

use aws_config::BehaviorVersion;
use common::*;

#[tokio::test]
async fn sdk_configured_from_world_env_reaches_the_world() {
    let w = world().await;
    for (k, v) in w.env() {
        std::env::set_var(k, v);
    }
    let conf = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let id = aws_sdk_sts::Client::new(&conf)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity via env");
    assert_eq!(id.account(), Some(r53world::OPERATOR_ACCOUNT));
    let r53 = aws_sdk_route53::Client::new(&conf);
    let out = r53
        .create_hosted_zone()
        .name("env.example.com")
        .caller_reference("env")
        .send()
        .await
        .expect("CreateHostedZone via env");
    assert_eq!(out.hosted_zone().unwrap().name(), "env.example.com.");
    assert_eq!(w.zones(r53world::OPERATOR_ACCOUNT).len(), 1);
    let keys: Vec<String> = w.env().into_iter().map(|(k, _)| k).collect();
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_ENDPOINT_URL_ROUTE_53",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL",
        "R53WORLD_RESOLVER",
        "AWS_EC2_METADATA_DISABLED",
        "R53WORLD_TSIG_KEY",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} missing from env()");
    }
}
