//! Conversions between the protocol-neutral types (schema, paths,
//! diagnostics, values) and tfplugin6's protobuf messages. Never panics on
//! malformed input: a value that does not decode is an error diagnostic.

use super::codec;
use super::diag::{AttributePath, Diagnostic, PathStep, Severity};
use super::proto::tfplugin6 as pb;
use super::schema::{Attribute, Block, NestedBlock, NestingMode, Schema, StringKind};
use super::value::{Type, Value};

fn string_kind_to_proto(k: StringKind) -> i32 {
    match k {
        StringKind::Plain => pb::StringKind::Plain as i32,
        StringKind::Markdown => pb::StringKind::Markdown as i32,
    }
}

fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json_bytes(),
        nested_type: None,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: string_kind_to_proto(a.description_kind),
        deprecated: a.deprecated,
        write_only: a.write_only,
    }
}

fn nested_block_to_proto(b: &NestedBlock, version: i64) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode as N;
    let nesting = match b.nesting {
        NestingMode::Single => N::Single,
        NestingMode::Group => N::Group,
        NestingMode::List => N::List,
        NestingMode::Set => N::Set,
        NestingMode::Map => N::Map,
    };
    pb::schema::NestedBlock {
        type_name: b.type_name.clone(),
        block: Some(block_to_proto(&b.block, version)),
        nesting: nesting as i32,
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

fn block_to_proto(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute_to_proto).collect(),
        block_types: b
            .block_types
            .iter()
            .map(|nb| nested_block_to_proto(nb, version))
            .collect(),
        description: b.description.clone(),
        description_kind: string_kind_to_proto(b.description_kind),
        deprecated: b.deprecated,
    }
}

/// Converts a [`Schema`] to its protocol message.
pub fn schema_to_proto(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_proto(&s.block, s.version)),
    }
}

/// Converts an [`AttributePath`] to its protocol message.
pub fn path_to_proto(p: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .steps()
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::AttributeName(n) => Selector::AttributeName(n.clone()),
                    PathStep::ElementKeyString(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::ElementKeyInt(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// Converts a protocol attribute path (steps without a selector are skipped).
pub fn path_from_proto(p: &pb::AttributePath) -> AttributePath {
    use pb::attribute_path::step::Selector;
    AttributePath(
        p.steps
            .iter()
            .filter_map(|s| {
                Some(match s.selector.as_ref()? {
                    Selector::AttributeName(n) => PathStep::AttributeName(n.clone()),
                    Selector::ElementKeyString(k) => PathStep::ElementKeyString(k.clone()),
                    Selector::ElementKeyInt(i) => PathStep::ElementKeyInt(*i),
                })
            })
            .collect(),
    )
}

/// Converts a [`Diagnostic`] to its protocol message.
pub fn diag_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error as i32,
            Severity::Warning => pb::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.attribute.as_ref().map(path_to_proto),
    }
}

pub fn diags_to_proto(d: &[Diagnostic]) -> Vec<pb::Diagnostic> {
    d.iter().map(diag_to_proto).collect()
}

/// Decodes a `DynamicValue` (msgpack preferred, JSON accepted; absent or
/// empty means null).
pub fn decode_dynamic(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
) -> Result<Value, Diagnostic> {
    let Some(dv) = dv else {
        return Ok(Value::Null);
    };
    let res = if !dv.msgpack.is_empty() {
        codec::decode_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        codec::decode_json_bytes(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    res.map_err(|e| {
        Diagnostic::error(
            "Invalid value received from Terraform",
            format!("The provider could not decode the {what}: {e}. This is a bug in the provider or Terraform."),
        )
    })
}

/// Encodes a value as a msgpack `DynamicValue`.
pub fn encode_dynamic(v: &Value, ty: &Type, what: &str) -> Result<pb::DynamicValue, Diagnostic> {
    codec::encode_msgpack(v, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                "Provider produced an invalid value",
                format!(
                    "The provider could not encode the {what}: {e}. This is a bug in the provider."
                ),
            )
        })
}
