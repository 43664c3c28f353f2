//! Provider and resource schemas.
//!
//! These are plain data types: the gRPC layer converts them to the protocol
//! messages, and a documentation generator can render them directly (every
//! field is public; `description` is Markdown when `description_kind` is
//! [`StringKind::Markdown`]).

use std::collections::BTreeMap;

use super::value::{Type, Value};

/// How a description string is formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StringKind {
    /// Plain text.
    Plain,
    /// Markdown (the default).
    #[default]
    Markdown,
}

/// A versioned schema of a provider configuration or a resource type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// Schema version; stored in state and handed to
    /// `upgrade_resource_state` when it changes.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// A version-`version` schema with the given top-level block.
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }

    /// Checks the rules Terraform enforces on provider schemas (Terraform
    /// refuses a provider whose schema breaks them). Returns every problem
    /// found, each prefixed with the attribute/block path.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.version < 0 {
            problems.push("schema version must not be negative".to_owned());
        }
        self.block.validate_into("", &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A configuration block: attributes plus nested blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// The attributes, in documentation order.
    pub attributes: Vec<Attribute>,
    /// Nested block types, in documentation order.
    pub block_types: Vec<NestedBlock>,
    /// Description of the block (Markdown by default).
    pub description: String,
    /// Format of `description`.
    pub description_kind: StringKind,
    /// Whether the whole block is deprecated.
    pub deprecated: bool,
}

impl Block {
    /// An empty block.
    pub fn new() -> Self {
        Block::default()
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Adds an attribute.
    #[must_use]
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    /// Adds a nested block type.
    #[must_use]
    pub fn nested_block(mut self, b: NestedBlock) -> Self {
        self.block_types.push(b);
        self
    }

    /// Looks up an attribute by name.
    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Looks up a nested block type by name.
    pub fn find_block(&self, type_name: &str) -> Option<&NestedBlock> {
        self.block_types.iter().find(|b| b.type_name == type_name)
    }

    /// The object type of values conforming to this block: attributes keep
    /// their type; nested blocks become an object (`Single`/`Group`), a list,
    /// set or map of objects.
    pub fn implied_type(&self) -> Type {
        let mut attrs = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.block_types {
            let inner = b.block.implied_type();
            let t = match b.nesting {
                NestingMode::Single | NestingMode::Group => inner,
                NestingMode::List => Type::list(inner),
                NestingMode::Set => Type::set(inner),
                NestingMode::Map => Type::map(inner),
            };
            attrs.insert(b.type_name.clone(), t);
        }
        Type::Object(attrs)
    }

    /// Returns a copy of `value` (an object conforming to this block) with
    /// every write-only attribute set to null, recursively through nested
    /// blocks. Terraform rejects states and plans carrying write-only values.
    pub fn null_write_only(&self, value: &Value) -> Value {
        let Value::Object(map) = value else {
            return value.clone();
        };
        let mut out = map.clone();
        for a in &self.attributes {
            if a.write_only {
                if let Some(v) = out.get_mut(&a.name) {
                    *v = Value::Null;
                }
            }
        }
        for b in &self.block_types {
            if let Some(v) = out.get_mut(&b.type_name) {
                let new = match &*v {
                    Value::List(items) => {
                        Value::List(items.iter().map(|i| b.block.null_write_only(i)).collect())
                    }
                    Value::Set(items) => {
                        Value::Set(items.iter().map(|i| b.block.null_write_only(i)).collect())
                    }
                    Value::Map(items) => Value::Map(
                        items
                            .iter()
                            .map(|(k, i)| (k.clone(), b.block.null_write_only(i)))
                            .collect(),
                    ),
                    other => b.block.null_write_only(other),
                };
                *v = new;
            }
        }
        Value::Object(out)
    }

    fn validate_into(&self, prefix: &str, problems: &mut Vec<String>) {
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.attributes {
            let p = format!("{prefix}{}", a.name);
            if !valid_name(&a.name) {
                problems.push(format!("{p}: name must match [a-z0-9_]+"));
            }
            if !seen.insert(a.name.as_str()) {
                problems.push(format!("{p}: defined more than once"));
            }
            if a.required && (a.optional || a.computed) {
                problems.push(format!(
                    "{p}: required cannot be combined with optional or computed"
                ));
            }
            if !(a.required || a.optional || a.computed) {
                problems.push(format!("{p}: must be required, optional or computed"));
            }
            if a.write_only && a.computed {
                problems.push(format!("{p}: write-only attributes cannot be computed"));
            }
        }
        for b in &self.block_types {
            let p = format!("{prefix}{}", b.type_name);
            if !valid_name(&b.type_name) {
                problems.push(format!("{p}: name must match [a-z0-9_]+"));
            }
            if !seen.insert(b.type_name.as_str()) {
                problems.push(format!("{p}: defined more than once"));
            }
            if b.min_items < 0 || b.max_items < 0 {
                problems.push(format!("{p}: min_items and max_items must not be negative"));
            }
            match b.nesting {
                NestingMode::Single if b.min_items > 1 || b.max_items > 1 => {
                    problems.push(format!(
                        "{p}: min_items and max_items must be 0 or 1 for Single nesting"
                    ));
                }
                NestingMode::Group | NestingMode::Map if b.min_items != 0 || b.max_items != 0 => {
                    problems.push(format!(
                        "{p}: min_items and max_items must be 0 for Group and Map nesting"
                    ));
                }
                NestingMode::List | NestingMode::Set
                    if b.max_items != 0 && b.min_items > b.max_items =>
                {
                    problems.push(format!("{p}: min_items must not exceed max_items"));
                }
                _ => {}
            }
            b.block.validate_into(&format!("{p}."), problems);
        }
    }

    /// True if any attribute (recursively) is sensitive or write-only.
    pub fn has_secrets(&self) -> bool {
        self.attributes.iter().any(|a| a.sensitive || a.write_only)
            || self.block_types.iter().any(|b| b.block.has_secrets())
    }
}

/// One attribute of a [`Block`].
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Value type.
    pub ty: Type,
    /// Description (Markdown by default).
    pub description: String,
    /// Format of `description`.
    pub description_kind: StringKind,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (possibly in addition to `optional`).
    pub computed: bool,
    /// Value is redacted in Terraform's output.
    pub sensitive: bool,
    /// Value is only available in configuration, never persisted to plan or
    /// state (protocol 6.8+, Terraform 1.11+).
    pub write_only: bool,
    /// The attribute is deprecated.
    pub deprecated: bool,
}

impl Attribute {
    /// A new attribute with no flags set; use the builder methods.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty,
            description: String::new(),
            description_kind: StringKind::Markdown,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Marks the attribute required.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks the attribute optional.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Marks the attribute computed.
    #[must_use]
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Marks the attribute sensitive.
    #[must_use]
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the attribute write-only.
    #[must_use]
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Marks the attribute deprecated.
    #[must_use]
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }
}

/// How a nested block may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestingMode {
    /// At most one block; the value is an object or null.
    Single,
    /// Exactly one block whose absence means "all attributes null".
    Group,
    /// An ordered list of blocks.
    List,
    /// An unordered set of blocks.
    Set,
    /// Labelled blocks; the value is a map of objects.
    Map,
}

/// A nested block type within a [`Block`].
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    /// The block's keyword in configuration.
    pub type_name: String,
    /// The block's content.
    pub block: Block,
    /// How often the block may appear.
    pub nesting: NestingMode,
    /// Minimum number of blocks (0 = no minimum).
    pub min_items: i64,
    /// Maximum number of blocks (0 = no maximum).
    pub max_items: i64,
}

impl NestedBlock {
    /// A nested block type with no item limits.
    pub fn new(type_name: impl Into<String>, nesting: NestingMode, block: Block) -> Self {
        NestedBlock {
            type_name: type_name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }

    /// Sets the item limits.
    #[must_use]
    pub fn items(mut self, min: i64, max: i64) -> Self {
        self.min_items = min;
        self.max_items = max;
        self
    }
}
