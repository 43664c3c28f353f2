//! AWS account settings and the Route 53 clients built from them.
//!
//! An [`AccountSettings`] says how to reach one account: region, profile,
//! an optional role to assume and optional endpoint overrides. It never holds
//! a secret: base credentials always come from the standard AWS chain
//! (`aws-config`: environment, shared config and credentials files, SSO, web
//! identity, instance metadata). [`Clients`] builds one Route 53 client per
//! distinct setting and hands out clones of it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use tokio::sync::Mutex;

use crate::error::{Error, Result};

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

/// Builds Route 53 clients, one per distinct account setting, and reuses them.
#[derive(Debug, Clone)]
pub struct Clients {
    defaults: AccountSettings,
    cache: Arc<Mutex<HashMap<AccountSettings, aws_sdk_route53::Client>>>,
    assume_role_backoff: Duration,
    builds: Arc<std::sync::atomic::AtomicUsize>,
}

impl Clients {
    /// Clients whose unset settings fall back to `defaults` (the provider's
    /// own configuration).
    pub fn new(defaults: AccountSettings) -> Self {
        Clients {
            defaults,
            cache: Arc::default(),
            assume_role_backoff: Duration::from_secs(2),
            builds: Arc::default(),
        }
    }

    /// Sets the first back-off between AssumeRole attempts (doubling each time).
    pub fn with_assume_role_backoff(mut self, d: Duration) -> Self {
        self.assume_role_backoff = d;
        self
    }

    /// How many distinct clients have been built so far.
    pub fn built(&self) -> usize {
        self.builds.load(std::sync::atomic::Ordering::Relaxed)
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
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(&key) {
            return Ok(c.clone());
        }
        let client = self.build(&key).await?;
        self.builds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        cache.insert(key, client.clone());
        Ok(client)
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

    async fn build(&self, s: &AccountSettings) -> Result<aws_sdk_route53::Client> {
        let base = self.base_config(s).await;
        let region = base
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let partition = Partition::of_region(&region);
        let mut r53 = aws_sdk_route53::config::Builder::from(&base)
            .region(Region::from_static(partition.route53_signing_region()));
        if let Some(e) = &s.endpoints.route53 {
            r53 = r53.endpoint_url(e);
        }
        if let Some(role) = &s.assume_role {
            let provider = self.assume(&base, s, role).await?;
            r53 = r53.credentials_provider(provider);
        }
        Ok(aws_sdk_route53::Client::from_conf(r53.build()))
    }

    async fn assume(
        &self,
        base: &SdkConfig,
        s: &AccountSettings,
        role: &AssumeRole,
    ) -> Result<SharedCredentialsProvider> {
        let sts_conf = match &s.endpoints.sts {
            Some(e) => base.to_builder().endpoint_url(e).build(),
            None => base.clone(),
        };
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
        loop {
            match provider.provide_credentials().await {
                Ok(_) => break,
                Err(e) => {
                    let msg = DisplayChain(&e).to_string();
                    let denied = msg.contains("AccessDenied");
                    if denied && attempt < ASSUME_ROLE_ATTEMPTS {
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
                    let suffix = if denied {
                        format!(
                            " (after {attempt} attempts); check the role's trust policy allows the caller and the external ID matches"
                        )
                    } else {
                        String::new()
                    };
                    return Err(Error::AssumeRole {
                        role_arn: role.role_arn.clone(),
                        message: format!("{msg}{suffix}"),
                    });
                }
            }
        }
        Ok(SharedCredentialsProvider::new(provider))
    }
}

/// Displays an error with its sources, once each, without a backtrace.
struct DisplayChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(self.0);
        while let Some(e) = cur {
            let s = e.to_string();
            if !parts.iter().any(|p| p.contains(&s)) {
                parts.push(s);
            }
            cur = e.source();
        }
        f.write_str(&parts.join(": "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_sign_route53_in_their_global_region() {
        assert_eq!(
            Partition::of_region("eu-west-1").route53_signing_region(),
            "us-east-1"
        );
        assert_eq!(
            Partition::of_region("cn-north-1").route53_signing_region(),
            "cn-northwest-1"
        );
        assert_eq!(
            Partition::of_region("us-gov-east-1").route53_signing_region(),
            "us-gov-west-1"
        );
    }

    #[test]
    fn role_arns_are_checked() {
        assert!(validate_role_arn("arn:aws:iam::123456789012:role/delegation").is_ok());
        assert!(validate_role_arn("arn:aws-cn:iam::123456789012:role/path/to/r").is_ok());
        assert!(validate_role_arn("arn:aws:iam::12345:role/x")
            .unwrap_err()
            .contains("12 digits"));
        assert!(validate_role_arn("arn:aws:iam::123456789012:user/x")
            .unwrap_err()
            .contains("not a role"));
        assert!(validate_role_arn("role/x")
            .unwrap_err()
            .contains("not an ARN"));
        assert!(validate_role_arn("arn:aws:s3::123456789012:role/x")
            .unwrap_err()
            .contains("not an IAM"));
        assert!(validate_role_arn("arn:aws:iam::123456789012:role/").is_err());
    }

    #[test]
    fn session_duration_bounds() {
        assert!(validate_session_duration(Duration::from_secs(900)).is_ok());
        assert!(validate_session_duration(Duration::from_secs(899)).is_err());
        assert!(validate_session_duration(Duration::from_secs(43_201)).is_err());
    }

    #[test]
    fn defaults_fill_unset_settings_only() {
        let c = Clients::new(AccountSettings {
            region: Some("eu-west-1".into()),
            endpoints: Endpoints {
                route53: Some("http://127.0.0.10:8080".into()),
                sts: None,
            },
            ..Default::default()
        });
        let e = c.effective(&AccountSettings {
            profile: Some("child".into()),
            ..Default::default()
        });
        assert_eq!(e.region.as_deref(), Some("eu-west-1"));
        assert_eq!(e.profile.as_deref(), Some("child"));
        assert_eq!(
            e.endpoints.route53.as_deref(),
            Some("http://127.0.0.10:8080")
        );
    }
}
