//! Shared set-up for the core's integration tests: a world with a parent zone
//! `example.com` in the parent account, registered at `com`, and an engine
//! that reaches it with the operator's base credentials and the documented
//! roles.

#![allow(dead_code)]

use std::sync::Once;
use std::time::Duration;

use r53world::{World, WorldConfig, OPERATOR_ACCOUNT, PARENT_ACCOUNT};
use route53delegation::account::{AccountSettings, AssumeRole, Endpoints};
use route53delegation::change::Backoff;
use route53delegation::delegation::{ChildSpec, ParentSpec, VerifySpec, ZoneRef};
use route53delegation::pace::{Pacing, Rate};
use route53delegation::parent::route53::ParentConfig;
use route53delegation::{DomainName, Engine, EngineConfig, LinkSpec};

pub const PARENT_ROLE: &str = "arn:aws:iam::111111111111:role/delegation-parent";
pub const CHILD: &str = "222222222222";

pub fn child_role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/delegation-child")
}

static ENV: Once = Once::new();

/// Base credentials come from the standard chain: the environment, as the
/// provider gets them. Every world uses the same deterministic operator keys,
/// so setting them once per test binary is safe.
pub fn operator_env() {
    ENV.call_once(|| {
        let key = r53world::base_access_key(OPERATOR_ACCOUNT);
        let secret = r53world::base_secret_key(OPERATOR_ACCOUNT);
        // SAFETY-free in edition 2021; done once before any client is built.
        std::env::set_var("AWS_ACCESS_KEY_ID", key);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", secret);
        std::env::remove_var("AWS_SESSION_TOKEN");
        std::env::remove_var("AWS_PROFILE");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/r53d-config");
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/r53d-credentials",
        );
    });
}

pub struct Fixture {
    pub world: World,
    pub engine: Engine,
    pub parent_zone_id: String,
}

pub async fn fixture() -> Fixture {
    operator_env();
    let world = World::start(WorldConfig::for_test())
        .await
        .expect("start world");
    let parent_zone_id = create_zone_as(&world, PARENT_ACCOUNT, "example.com").await;
    world
        .register_domain("example.com", &parent_zone_id)
        .await
        .expect("register example.com");
    let engine = engine_for(&world);
    Fixture {
        world,
        engine,
        parent_zone_id,
    }
}

pub fn engine_for(world: &World) -> Engine {
    Engine::new(engine_config(world))
}

/// The settings of [`engine_for`], for a test that changes one of them.
pub fn engine_config(world: &World) -> EngineConfig {
    EngineConfig {
        defaults: AccountSettings {
            region: Some("us-east-1".into()),
            endpoints: Endpoints {
                route53: Some(world.endpoint()),
                sts: Some(world.endpoint()),
            },
            ..Default::default()
        },
        resolvers: vec![world.resolver()],
        roots: vec![world.root_server()],
        insync_backoff: Some(Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
        }),
        assume_role_backoff: Some(Duration::from_millis(50)),
        // Paced, but at a pace that keeps the tests quick.
        pacing: Pacing::At(Rate::new(50.0, 10).unwrap()),
        insync_polling: None,
        // Tests change records behind the engine's back between steps of
        // one engine (a provider lives for one command): no snapshots.
        parent: Some(ParentConfig {
            window: Duration::from_millis(10),
            snapshot_ttl: Duration::ZERO,
            ..Default::default()
        }),
    }
}

/// A Route 53 client with an account's base credentials (the "console" of
/// that account, for out-of-band changes).
pub fn console(world: &World, account: &str) -> aws_sdk_route53::Client {
    let (k, s) = world.credentials(account);
    let conf = aws_sdk_route53::Config::builder()
        .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
        .region(aws_sdk_route53::config::Region::new("us-east-1"))
        .endpoint_url(world.endpoint())
        .credentials_provider(aws_sdk_route53::config::Credentials::new(
            k, s, None, None, "test",
        ))
        .build();
    aws_sdk_route53::Client::from_conf(conf)
}

pub async fn create_zone_as(world: &World, account: &str, name: &str) -> String {
    world.create_zone(account, name).await.expect("create zone")
}

pub fn role(arn: &str) -> AccountSettings {
    AccountSettings {
        assume_role: Some(AssumeRole {
            role_arn: arn.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `api.example.com` from `example.com` (by name, least-privilege parent
/// role) into a new zone in the first child account.
pub fn spec(name: &str) -> LinkSpec {
    LinkSpec {
        name: DomainName::parse(name).unwrap(),
        ttl: 300,
        parent: ParentSpec {
            zone: ZoneRef::Name(DomainName::parse("example.com").unwrap()),
            account: role(PARENT_ROLE),
            allow_overwrite: false,
            kind: Default::default(),
        },
        child: ChildSpec {
            account: role(&child_role(CHILD)),
            ..Default::default()
        },
        verify: VerifySpec {
            timeout: Duration::from_secs(20),
            ..Default::default()
        },
    }
}

pub const T: Duration = Duration::from_secs(60);

// Shared with the provider's Terraform tests (`#[path]`).
mod put_ns;
#[allow(unused_imports)] // not every test binary writes records as someone else
pub use put_ns::put_ns;
