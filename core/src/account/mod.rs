//! AWS account settings and the Route 53 clients built from them.
//!
//! An [`AccountSettings`] says how to reach one account: region, profile,
//! an optional role to assume and optional endpoint overrides. It never holds
//! a secret: base credentials always come from the standard AWS chain
//! (`aws-config`: environment, shared config and credentials files, SSO, web
//! identity, instance metadata). [`Clients`] builds one Route 53 client per
//! distinct setting and hands out clones of it.
//!
//! Endpoints: an endpoint set in [`Endpoints`] (the configuration) wins over
//! the environment (`AWS_ENDPOINT_URL_ROUTE_53`, `AWS_ENDPOINT_URL_STS`,
//! `AWS_ENDPOINT_URL`) and the shared config file, for Route 53 and STS
//! alike; a service with no configured endpoint follows the environment, then
//! the standard AWS endpoint.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_route53::config::retry::{RetryPartition, TokenBucket};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::origin::Origin;

use crate::error::{Error, Result};
use crate::pace::{Pacer, Rate};

/// How to reach one AWS account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AccountSettings {
    /// Region; for Route 53 only the partition matters. Falls back to the
    /// standard chain (`AWS_REGION`, profile), then `us-east-1`.
    pub region: Option<String>,
    /// Named profile from the shared config files.
    pub profile: Option<String>,
    /// Role to assume with STS, using the base credentials.
    pub assume_role: Option<AssumeRole>,
    /// Endpoint overrides.
    pub endpoints: Endpoints,
}

/// A role to assume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AssumeRole {
    /// `arn:aws:iam::123456789012:role/name`.
    pub role_arn: String,
    /// Session name; default `route53delegation`.
    pub session_name: Option<String>,
    /// External ID the role's trust policy requires.
    pub external_id: Option<String>,
    /// Session duration; STS allows 900 s to 12 h.
    pub duration: Option<Duration>,
}

/// Endpoint overrides, for the local world, FIPS endpoints or other partitions.
/// A URL set here beats `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_ENDPOINT_URL`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Endpoints {
    /// Route 53 endpoint URL.
    pub route53: Option<String>,
    /// STS endpoint URL.
    pub sts: Option<String>,
}

/// The AWS partition of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// The commercial partition (`aws`).
    Aws,
    /// China (`aws-cn`).
    AwsCn,
    /// GovCloud (`aws-us-gov`).
    AwsUsGov,
}

impl Partition {
    /// The partition a region belongs to.
    pub fn of_region(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::AwsCn
        } else if region.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else {
            Partition::Aws
        }
    }

    /// The region Route 53, a global service, is signed for in this partition.
    pub fn route53_signing_region(self) -> &'static str {
        match self {
            Partition::Aws => "us-east-1",
            Partition::AwsCn => "cn-northwest-1",
            Partition::AwsUsGov => "us-gov-west-1",
        }
    }

    /// The partition's name as it appears in ARNs.
    pub fn name(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }
}

/// Checks a role ARN's shape: `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
pub fn validate_role_arn(arn: &str) -> std::result::Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let expected = "expected arn:aws:iam::123456789012:role/NAME";
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(format!("{arn:?} is not an ARN; {expected}"));
    }
    if !matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov") {
        return Err(format!(
            "{arn:?} has unknown partition {:?}; {expected}",
            parts[1]
        ));
    }
    if parts[2] != "iam" || !parts[3].is_empty() {
        return Err(format!("{arn:?} is not an IAM ARN; {expected}"));
    }
    if parts[4].len() != 12 || !parts[4].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{arn:?} has account {:?}, not 12 digits; {expected}",
            parts[4]
        ));
    }
    let Some(name) = parts[5].strip_prefix("role/") else {
        return Err(format!("{arn:?} is not a role ARN; {expected}"));
    };
    let role_name = name.rsplit('/').next().unwrap_or("");
    if role_name.is_empty()
        || role_name.len() > 64
        || !role_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        return Err(format!("{arn:?} has an invalid role name; {expected}"));
    }
    Ok(())
}

/// Checks an STS session duration (900 s to 12 h).
pub fn validate_session_duration(d: Duration) -> std::result::Result<(), String> {
    if !(900..=43_200).contains(&d.as_secs()) {
        return Err(format!(
            "{}s is outside what STS allows: 15m to 12h",
            d.as_secs()
        ));
    }
    Ok(())
}

/// How often AssumeRole is tried when STS answers AccessDenied, which right
/// after a role or trust policy is created is usually IAM propagation.
pub const ASSUME_ROLE_ATTEMPTS: u32 = 5;

/// Attempts a Route 53 call gets when it is throttled (or told to retry):
/// with back-off from 200 ms up to 20 s, a few minutes of patience, enough
/// to ride out Route 53's per-account rate at any Terraform parallelism.
pub const ROUTE53_MAX_ATTEMPTS: u32 = 20;

/// The retry behaviour of every Route 53 client: standard retry (jittered
/// exponential back-off) with [`ROUTE53_MAX_ATTEMPTS`] attempts, in a retry
/// partition of the client's account (see [`Clients`]). Adaptive retry was
/// measured too: its client-side rate limiter slowed a burst of 60 calls
/// against the 5/s throttle to 128 s, against 22 s for this.
pub fn route53_retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(ROUTE53_MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20))
}

/// The AWS account a setting reaches, as far as it can be told without
/// asking STS: the role's account, else the base credentials (per profile).
fn account_key(s: &AccountSettings) -> String {
    match &s.assume_role {
        Some(r) => match r.role_arn.split(':').nth(4) {
            Some(acct) if !acct.is_empty() => format!("account-{acct}"),
            _ => format!("role-{}", r.role_arn),
        },
        None => format!("base-{}", s.profile.as_deref().unwrap_or("default")),
    }
}

/// One build of a client, shared by every caller with the same effective
/// settings: the first caller builds, the others wait for its outcome.
type Slot = tokio::sync::OnceCell<std::result::Result<aws_sdk_route53::Client, BuildFailure>>;

/// Why building a client failed.
#[derive(Debug, Clone)]
struct BuildFailure {
    role_arn: String,
    message: String,
    /// Kept for the rest of the engine's life: AccessDenied after
    /// [`ASSUME_ROLE_ATTEMPTS`] tries, or an error asking again will not fix.
    /// A transient failure (connection refused, timeout, throttling, 5xx)
    /// reaches only the callers that joined that build; the next caller
    /// builds again.
    definitive: bool,
}

impl BuildFailure {
    fn to_error(&self) -> Error {
        Error::AssumeRole {
            role_arn: self.role_arn.clone(),
            message: self.message.clone(),
        }
    }
}

/// Builds Route 53 clients, one per distinct effective account setting, and
/// reuses them.
///
/// Builds for different settings run in parallel: a role that is denied and
/// backing off never holds up another account's links. Concurrent callers
/// with the same settings share one build (one AssumeRole), and a definitive
/// failure is remembered, so N links with a bad role fail once, with one
/// message.
#[derive(Debug, Clone)]
pub struct Clients {
    defaults: AccountSettings,
    /// Only ever locked to hand out a slot, never across an await.
    slots: Arc<std::sync::Mutex<HashMap<AccountSettings, Arc<Slot>>>>,
    assume_role_backoff: Duration,
    builds: Arc<AtomicUsize>,
    /// One retry partition per account (see `account_key`), shared by every
    /// client that reaches it.
    partitions: Arc<std::sync::Mutex<HashMap<String, RetryPartition>>>,
    /// Client-side pacing per account (`None`: off).
    rate: Option<Rate>,
    /// One pacer per account (see `account_key`), shared like the partitions.
    pacers: Arc<std::sync::Mutex<HashMap<String, Pacer>>>,
}

impl Clients {
    /// Clients whose unset settings fall back to `defaults` (the provider's
    /// own configuration).
    pub fn new(defaults: AccountSettings) -> Self {
        Clients {
            defaults,
            slots: Arc::default(),
            assume_role_backoff: Duration::from_secs(2),
            builds: Arc::default(),
            partitions: Arc::default(),
            rate: Some(Rate::DEFAULT),
            pacers: Arc::default(),
        }
    }

    /// Paces each account's Route 53 requests at `rate` (`None`: no pacing).
    /// Every client reaching one account shares its pacer.
    pub fn with_rate(mut self, rate: Option<Rate>) -> Self {
        self.rate = rate;
        self
    }

    fn pacer(&self, s: &AccountSettings) -> Option<Pacer> {
        let rate = self.rate?;
        let mut pacers = self.pacers.lock().unwrap_or_else(PoisonError::into_inner);
        Some(
            pacers
                .entry(account_key(s))
                .or_insert_with(|| Pacer::new(rate))
                .clone(),
        )
    }

    /// The retry partition of the account `s` reaches, with its own retry
    /// quota, so one throttled account never uses up another's. The
    /// SDK's default partition is one token bucket of 500 shared by every
    /// Route 53 client in the process, 5 per retry: a plan of 60 links
    /// against a throttled account ran it dry after 3 or 4 retries a call
    /// and failed, however many attempts were allowed. Here the quota is
    /// unlimited, and patience is bounded by [`ROUTE53_MAX_ATTEMPTS`] and
    /// the per-account rate limiter instead.
    fn partition(&self, s: &AccountSettings) -> RetryPartition {
        let key = account_key(s);
        let mut partitions = self
            .partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        partitions
            .entry(key.clone())
            .or_insert_with(|| {
                RetryPartition::custom(format!("route53-{key}"))
                    .token_bucket(TokenBucket::unlimited())
                    .build()
            })
            .clone()
    }

    /// Sets the first back-off between AssumeRole attempts (doubling each time).
    pub fn with_assume_role_backoff(mut self, d: Duration) -> Self {
        self.assume_role_backoff = d;
        self
    }

    /// How many clients have been built successfully so far: one per distinct
    /// effective setting (again only after a transient failure).
    pub fn built(&self) -> usize {
        self.builds.load(Ordering::Relaxed)
    }

    /// The settings after applying the defaults.
    pub fn effective(&self, s: &AccountSettings) -> AccountSettings {
        AccountSettings {
            region: s.region.clone().or_else(|| self.defaults.region.clone()),
            profile: s.profile.clone().or_else(|| self.defaults.profile.clone()),
            assume_role: s.assume_role.clone(),
            endpoints: Endpoints {
                route53: s
                    .endpoints
                    .route53
                    .clone()
                    .or_else(|| self.defaults.endpoints.route53.clone()),
                sts: s
                    .endpoints
                    .sts
                    .clone()
                    .or_else(|| self.defaults.endpoints.sts.clone()),
            },
        }
    }

    /// The Route 53 client for an account, built on first use.
    pub async fn route53(&self, settings: &AccountSettings) -> Result<aws_sdk_route53::Client> {
        let key = self.effective(settings);
        self.shared(&key, || self.build(&key))
            .await
            .map_err(|f| f.to_error())
    }

    /// The outcome of the one build for `key`: runs `build` unless a build
    /// for `key` is under way (then waits for it) or done (then reuses its
    /// client or its definitive failure).
    async fn shared<F, Fut>(
        &self,
        key: &AccountSettings,
        build: F,
    ) -> std::result::Result<aws_sdk_route53::Client, BuildFailure>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<
            Output = std::result::Result<aws_sdk_route53::Client, BuildFailure>,
        >,
    {
        let slot = self.slot(key);
        // If the caller building is cancelled, tokio's OnceCell lets one of
        // the waiters build instead.
        let outcome = slot
            .get_or_init(|| async {
                let built = build().await;
                if built.is_ok() {
                    self.builds.fetch_add(1, Ordering::Relaxed);
                }
                built
            })
            .await;
        if let Err(failure) = outcome {
            if !failure.definitive {
                self.forget(key, &slot);
            }
        }
        outcome.clone()
    }

    fn slot(&self, key: &AccountSettings) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(key.clone()).or_default().clone()
    }

    /// Drops a slot holding a transient failure, unless a newer build has
    /// already replaced it.
    fn forget(&self, key: &AccountSettings, slot: &Arc<Slot>) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots.get(key).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            slots.remove(key);
        }
    }

    async fn base_config(&self, s: &AccountSettings) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
            RetryConfig::standard()
                .with_max_attempts(10)
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(20)),
        );
        if let Some(r) = &s.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(p) = &s.profile {
            loader = loader.profile_name(p);
        }
        let mut conf = loader.load().await;
        if conf.region().is_none() {
            conf = conf
                .into_builder()
                .region(Region::from_static("us-east-1"))
                .build();
        }
        conf
    }

    async fn build(
        &self,
        s: &AccountSettings,
    ) -> std::result::Result<aws_sdk_route53::Client, BuildFailure> {
        let base = self.base_config(s).await;
        let region = base
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let partition = Partition::of_region(&region);
        let mut r53 = aws_sdk_route53::config::Builder::from(&base)
            .region(Region::from_static(partition.route53_signing_region()))
            .retry_config(route53_retry_config())
            .retry_partition(self.partition(s));
        if let Some(pacer) = self.pacer(s) {
            let http = base
                .http_client()
                .unwrap_or_else(crate::pace::default_http_client);
            // A request waiting its turn in the pacer sends no bytes; the
            // SDK's stalled-stream protection (1 B/s after a 5 s grace)
            // would abort it as a stalled upload ("minimum throughput ...
            // 0 B/s"), which failed every link of 200 in flight at 5/s. The
            // operation's timeout bounds each call instead.
            r53 = r53.http_client(pacer.wrap(http)).stalled_stream_protection(
                aws_sdk_route53::config::StalledStreamProtectionConfig::disabled(),
            );
        }
        // Set on the service's own config, the URL beats AWS_ENDPOINT_URL_ROUTE_53
        // and AWS_ENDPOINT_URL; without it those (and the shared config
        // file's `services` section) apply.
        if let Some(e) = &s.endpoints.route53 {
            r53 = r53.endpoint_url(e);
        }
        if let Some(role) = &s.assume_role {
            let provider = self.assume(&base, s, role).await?;
            r53 = r53.credentials_provider(provider);
        }
        Ok(aws_sdk_route53::Client::from_conf(r53.build()))
    }

    /// The configuration STS is called with for AssumeRole.
    ///
    /// aws-config's `AssumeRoleProvider` builds its STS client with
    /// `aws_sdk_sts::config::Builder::from(&SdkConfig)`, which prefers
    /// `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL` (and the shared config
    /// file's `services` section) over the `SdkConfig`'s own endpoint URL
    /// unless that URL's recorded origin is client configuration. So a
    /// configured STS endpoint is recorded as set in code, the way
    /// `ConfigLoader::endpoint_url` records it, and the environment only
    /// applies when no STS endpoint is configured.
    fn sts_config(base: &SdkConfig, s: &AccountSettings) -> SdkConfig {
        match &s.endpoints.sts {
            Some(e) => {
                let mut b = base.to_builder().endpoint_url(e);
                b.insert_origin("endpoint_url", Origin::shared_config());
                b.build()
            }
            None => base.clone(),
        }
    }

    async fn assume(
        &self,
        base: &SdkConfig,
        s: &AccountSettings,
        role: &AssumeRole,
    ) -> std::result::Result<SharedCredentialsProvider, BuildFailure> {
        let sts_conf = Self::sts_config(base, s);
        let mut builder = AssumeRoleProvider::builder(&role.role_arn)
            .session_name(
                role.session_name
                    .clone()
                    .unwrap_or_else(|| "route53delegation".into()),
            )
            .configure(&sts_conf);
        if let Some(id) = &role.external_id {
            builder = builder.external_id(id);
        }
        if let Some(d) = role.duration {
            builder = builder.session_length(d);
        }
        let provider = builder.build().await;
        // Fetch once now, so that a role that may not be assumed fails here with
        // a clear message, and IAM propagation delays are waited out.
        let mut backoff = self.assume_role_backoff;
        let mut attempt = 1;
        let first = loop {
            match provider.provide_credentials().await {
                Ok(creds) => break creds,
                Err(e) => {
                    let (kind, cause) = classify(&e);
                    if kind == FailureKind::Denied && attempt < ASSUME_ROLE_ATTEMPTS {
                        tracing::warn!(
                            role_arn = %role.role_arn,
                            attempt,
                            "AssumeRole denied; retrying in case IAM is still propagating"
                        );
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                        attempt += 1;
                        continue;
                    }
                    let message = match kind {
                        FailureKind::Denied => format!(
                            "{cause} (after {attempt} attempts); check the role's trust policy allows the caller and the external ID matches"
                        ),
                        FailureKind::Transient | FailureKind::Definitive => cause,
                    };
                    return Err(BuildFailure {
                        role_arn: role.role_arn.clone(),
                        message,
                        definitive: kind != FailureKind::Transient,
                    });
                }
            }
        };
        Ok(SharedCredentialsProvider::new(Assumed {
            first: std::sync::Mutex::new(Some(first)),
            role: provider,
        }))
    }
}

/// Assumed-role credentials that hand out the credentials fetched while the
/// client was built first, so that building a client costs one AssumeRole;
/// later (on expiry) they assume the role again. The client's identity cache
/// sits in front.
#[derive(Debug)]
struct Assumed {
    first: std::sync::Mutex<Option<Credentials>>,
    role: AssumeRoleProvider,
}

impl ProvideCredentials for Assumed {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self
            .first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .filter(|c| {
                c.expiry()
                    .is_none_or(|exp| exp > SystemTime::now() + Duration::from_secs(300))
            });
        match first {
            Some(c) => future::ProvideCredentials::ready(Ok(c)),
            None => self.role.provide_credentials(),
        }
    }
}

mod failure;
use failure::*;

#[cfg(test)]
mod tests;
