//! The trait the resource code implements, and its request/response types.
//!
//! The gRPC layer ([`crate::protocol::service`]) decodes Terraform's messages
//! into these plain types using the schemas returned by
//! [`ProviderImpl::provider_schema`] / [`ProviderImpl::resource_schemas`], and
//! encodes the responses back. Implementations never see protobuf or msgpack.

use std::collections::BTreeMap;

use tokio_util::sync::CancellationToken;

use super::diag::{AttributePath, Diagnostic};
use super::schema::Schema;
use super::value::Value;

/// Re-export of the `async_trait` attribute used by [`ProviderImpl`].
/// Implement the trait with `#[route53delegation_provider::protocol::async_trait]`
/// (or `#[tonic::async_trait]`, the same macro).
pub use tonic::async_trait;

/// Input of [`ProviderImpl::read_resource`].
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// Resource type, e.g. `route53delegation_link`.
    pub type_name: String,
    /// The state Terraform has recorded (an object).
    pub current_state: Value,
    /// Provider-private data stored alongside the state.
    pub private: Vec<u8>,
    /// Cancelled when Terraform calls `StopProvider` (e.g. on Ctrl-C).
    pub cancel: CancellationToken,
}

/// Output of [`ProviderImpl::read_resource`].
#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    /// The refreshed state; [`Value::Null`] means the resource is gone.
    pub new_state: Value,
    /// Provider-private data to store.
    pub private: Vec<u8>,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// Input of [`ProviderImpl::plan_resource_change`].
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Resource type.
    pub type_name: String,
    /// Current state; [`Value::Null`] when creating.
    pub prior_state: Value,
    /// Terraform's proposal (config merged with prior state); [`Value::Null`]
    /// when destroying.
    pub proposed_new_state: Value,
    /// The configuration (may contain unknowns); [`Value::Null`] when
    /// destroying.
    pub config: Value,
    /// Private data from the prior state.
    pub prior_private: Vec<u8>,
    /// Cancelled when Terraform calls `StopProvider` (Ctrl-C during plan).
    pub cancel: CancellationToken,
}

/// Output of [`ProviderImpl::plan_resource_change`].
#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    /// The planned new state (use [`Value::Unknown`] for values known only
    /// after apply).
    pub planned_state: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Private data handed to apply.
    pub planned_private: Vec<u8>,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// Input of [`ProviderImpl::apply_resource_change`].
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// Resource type.
    pub type_name: String,
    /// Current state; [`Value::Null`] when creating.
    pub prior_state: Value,
    /// The planned state; [`Value::Null`] when destroying.
    pub planned_state: Value,
    /// The configuration (wholly known); [`Value::Null`] when destroying.
    /// Write-only attributes are only available here.
    pub config: Value,
    /// Private data from the plan.
    pub planned_private: Vec<u8>,
    /// Cancelled when Terraform calls `StopProvider`.
    pub cancel: CancellationToken,
    /// Where the implementation records the state reached so far (say, right
    /// after creating an object), so that if it fails without producing a
    /// response (a panic, an unencodable value) Terraform still gets that
    /// state instead of the prior one and nothing created is forgotten.
    pub checkpoint: Checkpoint,
}

/// The latest state an apply has reached, kept by the protocol layer for
/// the case where the implementation fails without answering. Cheap to
/// clone; clones share the same slot.
#[derive(Debug, Clone, Default)]
pub struct Checkpoint(std::sync::Arc<std::sync::Mutex<Option<Reached>>>);

/// A state and its private data.
type Reached = (Value, Vec<u8>);

impl Checkpoint {
    /// Records `state` (and its private data) as reached.
    pub fn record(&self, state: Value, private: Vec<u8>) {
        // A poisoned lock only means a panic elsewhere while recording; the
        // slot's value is still a whole state.
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some((state, private));
    }

    /// The last state recorded, if any.
    pub fn latest(&self) -> Option<Reached> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Output of [`ProviderImpl::apply_resource_change`].
#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    /// The new state; [`Value::Null`] after a destroy. Write-only attributes
    /// are nulled by the protocol layer.
    pub new_state: Value,
    /// Private data to store with the state.
    pub private: Vec<u8>,
    /// Errors and warnings. On error, `new_state` should still describe
    /// whatever was created (or equal the prior state).
    pub diagnostics: Vec<Diagnostic>,
}

/// One resource returned by an import.
/// `ReadDataSource`: the configuration, wholly known.
#[derive(Debug, Clone)]
pub struct DataSourceRequest {
    /// Data source type.
    pub type_name: String,
    /// The configuration.
    pub config: Value,
    /// Cancelled when Terraform calls `StopProvider`.
    pub cancel: CancellationToken,
}

/// `ReadDataSource`'s answer.
#[derive(Debug, Clone, Default)]
pub struct DataSourceResponse {
    /// The configuration with the computed attributes filled in.
    pub state: Value,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
pub struct ImportedResource {
    /// Resource type.
    pub type_name: String,
    /// The imported state (Terraform calls `read_resource` on it next).
    pub state: Value,
    /// Private data to store.
    pub private: Vec<u8>,
}

/// Output of [`ProviderImpl::import_resource_state`].
#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// The imported resources (usually exactly one).
    pub imported: Vec<ImportedResource>,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// A Terraform provider, in protocol-neutral terms.
///
/// All methods take `&self`; the implementation keeps its configured state
/// behind interior mutability (e.g. `tokio::sync::OnceCell`/`RwLock`).
/// Methods must not panic; if one does, the protocol layer turns it into a
/// generic error diagnostic.
#[async_trait]
pub trait ProviderImpl: Send + Sync + 'static {
    /// Schema of the `provider "..." {}` block.
    fn provider_schema(&self) -> Schema;

    /// Schemas of the managed resource types, keyed by type name.
    fn resource_schemas(&self) -> BTreeMap<String, Schema>;

    /// Schemas of the data sources, keyed by type name. None by default.
    fn data_source_schemas(&self) -> BTreeMap<String, Schema> {
        BTreeMap::new()
    }

    /// Checks a data source's configuration (values may be unknown).
    async fn validate_data_source_config(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Vec<Diagnostic> {
        let _ = (type_name, config);
        Vec::new()
    }

    /// Reads a data source. Only called for types in
    /// [`ProviderImpl::data_source_schemas`].
    async fn read_data_source(&self, req: DataSourceRequest) -> DataSourceResponse {
        DataSourceResponse {
            state: Value::Null,
            diagnostics: vec![Diagnostic::error(
                "Unknown data source type",
                format!(
                    "This provider does not support data source type {:?}.",
                    req.type_name
                ),
            )],
        }
    }

    /// Validates the provider configuration (may contain unknowns).
    async fn validate_provider_config(&self, config: &Value) -> Vec<Diagnostic> {
        let _ = config;
        Vec::new()
    }

    /// Configures the provider; called once before resource operations.
    /// `config` may contain unknowns if it depends on other resources.
    async fn configure_provider(&self, config: &Value, terraform_version: &str) -> Vec<Diagnostic> {
        let _ = (config, terraform_version);
        Vec::new()
    }

    /// Validates a resource configuration (may contain unknowns).
    async fn validate_resource_config(&self, type_name: &str, config: &Value) -> Vec<Diagnostic> {
        let _ = (type_name, config);
        Vec::new()
    }

    /// Upgrades stored state JSON written by schema `version` to a value of
    /// the current schema. The default decodes the JSON with the current
    /// schema (correct while the schema version has never changed) using
    /// [`crate::protocol::codec::decode_json_lenient`]: attributes no longer
    /// in the schema are dropped.
    async fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        json: serde_json::Value,
    ) -> Result<Value, Vec<Diagnostic>> {
        let schemas = self.resource_schemas();
        let Some(schema) = schemas.get(type_name) else {
            return Err(vec![Diagnostic::error(
                "Unknown resource type",
                format!("This provider does not support resource type {type_name:?}."),
            )]);
        };
        if version > schema.version {
            return Err(vec![Diagnostic::error(
                "State written by a newer provider",
                format!(
                    "The state of this {type_name} was written with schema version {version}, but this \
                     provider only knows version {}. Upgrade the provider.",
                    schema.version
                ),
            )]);
        }
        super::codec::decode_json_lenient(&json, &schema.block.implied_type()).map_err(|e| {
            vec![Diagnostic::error(
                "Cannot read stored state",
                format!("The stored state of this {type_name} does not match the schema: {e}."),
            )]
        })
    }

    /// Refreshes a resource from the real world.
    async fn read_resource(&self, req: ReadRequest) -> ReadResponse;

    /// Plans a change (create, update or destroy).
    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse;

    /// Applies a planned change.
    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse;

    /// Imports an existing object by its import ID; `cancel` fires when
    /// Terraform calls `StopProvider`.
    async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
        cancel: CancellationToken,
    ) -> ImportResponse {
        let _ = (id, cancel);
        ImportResponse {
            imported: Vec::new(),
            diagnostics: vec![Diagnostic::error(
                "Import not supported",
                format!("Resource type {type_name} does not support import."),
            )],
        }
    }
}
