//! Wire encodings of [`Value`]: msgpack (what Terraform uses for
//! `DynamicValue`) and JSON (raw state in `UpgradeResourceState`).
//!
//! Both directions are driven by a [`Type`]; decoding never panics on bad
//! input and reports where in the value the problem was.

use std::collections::BTreeMap;
use std::fmt;

use rmpv::Value as Mp;

use super::value::{Number, Type, Value};

/// msgpack extension type Terraform uses for unknown values.
pub const UNKNOWN_EXT: i8 = 0;
/// msgpack extension type Terraform uses for unknown values with
/// refinements (decoded as plain unknowns).
pub const REFINED_UNKNOWN_EXT: i8 = 12;

/// A value could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError {
    /// Where in the value (Terraform-ish path, empty for the root).
    pub path: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for CodecError {}

fn err(path: &str, message: impl Into<String>) -> CodecError {
    CodecError {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn attr_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

// ---------------------------------------------------------------------------
// msgpack
// ---------------------------------------------------------------------------

/// Decodes msgpack bytes as a value of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut rd = bytes;
    let mp =
        rmpv::decode::read_value(&mut rd).map_err(|e| err("", format!("invalid msgpack: {e}")))?;
    if !rd.is_empty() {
        return Err(err("", "trailing bytes after msgpack value"));
    }
    from_mp(&mp, ty, "")
}

/// Encodes `value` as msgpack according to type `ty`.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mp = to_mp(value, ty, "")?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp)
        .map_err(|e| err("", format!("msgpack encoding failed: {e}")))?;
    Ok(out)
}

fn mp_number(mp: &Mp, path: &str) -> Result<Number, CodecError> {
    match mp {
        Mp::Integer(i) => {
            if let Some(v) = i.as_i64() {
                Ok(Number::Int(v))
            } else {
                Ok(Number::Float(i.as_f64().unwrap_or(f64::NAN)))
            }
        }
        Mp::F32(f) => Ok(Number::Float(f64::from(*f)).normalized()),
        Mp::F64(f) => Ok(Number::Float(*f).normalized()),
        // cty encodes numbers that do not fit int64/float64 as strings.
        Mp::String(s) => parse_number(s.as_str().unwrap_or_default(), path),
        _ => Err(err(path, "expected a number")),
    }
}

fn parse_number(s: &str, path: &str) -> Result<Number, CodecError> {
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Number::Int(i));
    }
    s.parse::<f64>()
        .map(|f| Number::Float(f).normalized())
        .map_err(|_| err(path, format!("invalid number {s:?}")))
}

fn mp_str<'a>(mp: &'a Mp, path: &str) -> Result<&'a str, CodecError> {
    match mp {
        Mp::String(s) => s
            .as_str()
            .ok_or_else(|| err(path, "string is not valid UTF-8")),
        Mp::Binary(b) => std::str::from_utf8(b).map_err(|_| err(path, "string is not valid UTF-8")),
        _ => Err(err(path, "expected a string")),
    }
}

fn from_mp(mp: &Mp, ty: &Type, path: &str) -> Result<Value, CodecError> {
    match mp {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(t, _) if *t == UNKNOWN_EXT || *t == REFINED_UNKNOWN_EXT => {
            return Ok(Value::Unknown)
        }
        Mp::Ext(t, _) => return Err(err(path, format!("unsupported msgpack extension type {t}"))),
        _ => {}
    }
    match ty {
        Type::String => Ok(Value::String(mp_str(mp, path)?.to_owned())),
        Type::Bool => match mp {
            Mp::Boolean(b) => Ok(Value::Bool(*b)),
            _ => Err(err(path, "expected a bool")),
        },
        Type::Number => Ok(Value::Number(mp_number(mp, path)?)),
        Type::List(et) | Type::Set(et) => {
            let Mp::Array(items) = mp else {
                return Err(err(path, "expected a list"));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(from_mp(item, et, &format!("{path}[{i}]"))?);
            }
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(out)
            } else {
                Value::Set(out)
            })
        }
        Type::Map(et) => {
            let Mp::Map(entries) = mp else {
                return Err(err(path, "expected a map"));
            };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let k = mp_str(k, path)?;
                out.insert(k.to_owned(), from_mp(v, et, &format!("{path}[{k:?}]"))?);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Mp::Map(entries) = mp else {
                return Err(err(path, "expected an object"));
            };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let k = mp_str(k, path)?;
                let Some(at) = attrs.get(k) else {
                    return Err(err(path, format!("unsupported attribute {k:?}")));
                };
                out.insert(k.to_owned(), from_mp(v, at, &attr_path(path, k))?);
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            // cty: [type JSON (bytes), value]
            let Mp::Array(pair) = mp else {
                return Err(err(path, "expected a dynamic value [type, value]"));
            };
            let [t, v] = pair.as_slice() else {
                return Err(err(path, "expected a dynamic value [type, value]"));
            };
            let tjson: serde_json::Value = serde_json::from_str(mp_str(t, path)?)
                .map_err(|e| err(path, format!("invalid dynamic type: {e}")))?;
            let t = Type::from_json(&tjson).map_err(|e| err(path, e))?;
            from_mp(v, &t, path)
        }
    }
}

fn number_to_mp(n: Number) -> Mp {
    match n.normalized() {
        Number::Int(i) => Mp::from(i),
        Number::Float(f) => Mp::F64(f),
    }
}

fn to_mp(value: &Value, ty: &Type, path: &str) -> Result<Mp, CodecError> {
    match value {
        Value::Null => return Ok(Mp::Nil),
        Value::Unknown => return Ok(Mp::Ext(UNKNOWN_EXT, vec![0])),
        _ => {}
    }
    match (ty, value) {
        (Type::Dynamic, v) => {
            let t = v.infer_type();
            let inner = to_mp(v, &t, path)?;
            Ok(Mp::Array(vec![Mp::Binary(t.to_json_bytes()), inner]))
        }
        (Type::String, Value::String(s)) => Ok(Mp::from(s.as_str())),
        (Type::Bool, Value::Bool(b)) => Ok(Mp::Boolean(*b)),
        (Type::Number, Value::Number(n)) => Ok(number_to_mp(*n)),
        (Type::List(et), Value::List(items) | Value::Set(items))
        | (Type::Set(et), Value::List(items) | Value::Set(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(to_mp(item, et, &format!("{path}[{i}]"))?);
            }
            Ok(Mp::Array(out))
        }
        (Type::Map(et), Value::Map(m) | Value::Object(m)) => {
            let mut out = Vec::with_capacity(m.len());
            for (k, v) in m {
                out.push((
                    Mp::from(k.as_str()),
                    to_mp(v, et, &format!("{path}[{k:?}]"))?,
                ));
            }
            Ok(Mp::Map(out))
        }
        (Type::Object(attrs), Value::Object(m) | Value::Map(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(err(path, format!("unsupported attribute {extra:?}")));
            }
            let mut out = Vec::with_capacity(attrs.len());
            for (name, at) in attrs {
                let v = m.get(name).unwrap_or(&Value::Null);
                out.push((
                    Mp::from(name.as_str()),
                    to_mp(v, at, &attr_path(path, name))?,
                ));
            }
            Ok(Mp::Map(out))
        }
        (ty, _) => Err(err(path, format!("value does not conform to type {ty}"))),
    }
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

/// Decodes a JSON value (as stored in Terraform state) as type `ty`.
/// JSON cannot represent unknowns; attributes missing from an object are
/// null.
pub fn decode_json(json: &serde_json::Value, ty: &Type) -> Result<Value, CodecError> {
    from_json(json, ty, "", false)
}

/// Like [`decode_json`], but object attributes not in `ty` are ignored
/// instead of being an error (what SDKs do when reading stored state whose
/// schema version did not change, e.g. after an attribute was removed).
pub fn decode_json_lenient(json: &serde_json::Value, ty: &Type) -> Result<Value, CodecError> {
    from_json(json, ty, "", true)
}

/// Decodes JSON bytes as type `ty`.
pub fn decode_json_bytes(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| err("", format!("invalid JSON: {e}")))?;
    decode_json(&json, ty)
}

fn from_json(
    json: &serde_json::Value,
    ty: &Type,
    path: &str,
    lenient: bool,
) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    if json.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::String => match json {
            J::String(s) => Ok(Value::String(s.clone())),
            // Terraform's JSON decoder converts primitives to strings.
            J::Number(n) => Ok(Value::String(n.to_string())),
            J::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(err(path, "expected a string")),
        },
        Type::Bool => match json {
            J::Bool(b) => Ok(Value::Bool(*b)),
            J::String(s) if s == "true" => Ok(Value::Bool(true)),
            J::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(err(path, "expected a bool")),
        },
        Type::Number => match json {
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Value::Number(Number::Int(i)))
                } else {
                    Ok(Value::Number(
                        Number::Float(n.as_f64().unwrap_or(f64::NAN)).normalized(),
                    ))
                }
            }
            J::String(s) => Ok(Value::Number(parse_number(s, path)?)),
            _ => Err(err(path, "expected a number")),
        },
        Type::List(et) | Type::Set(et) => {
            let J::Array(items) = json else {
                return Err(err(path, "expected a list"));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(from_json(item, et, &format!("{path}[{i}]"), lenient)?);
            }
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(out)
            } else {
                Value::Set(out)
            })
        }
        Type::Map(et) => {
            let J::Object(m) = json else {
                return Err(err(path, "expected a map"));
            };
            let mut out = BTreeMap::new();
            for (k, v) in m {
                out.insert(
                    k.clone(),
                    from_json(v, et, &format!("{path}[{k:?}]"), lenient)?,
                );
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let J::Object(m) = json else {
                return Err(err(path, "expected an object"));
            };
            let mut out = BTreeMap::new();
            for (k, v) in m {
                let Some(at) = attrs.get(k) else {
                    if lenient {
                        continue;
                    }
                    return Err(err(path, format!("unsupported attribute {k:?}")));
                };
                out.insert(k.clone(), from_json(v, at, &attr_path(path, k), lenient)?);
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            // cty JSON for dynamic: {"value": ..., "type": ...}
            let (Some(v), Some(t)) = (json.get("value"), json.get("type")) else {
                return Err(err(path, "expected a dynamic value {\"value\",\"type\"}"));
            };
            let t = Type::from_json(t).map_err(|e| err(path, e))?;
            from_json(v, &t, path, lenient)
        }
    }
}

/// Encodes a wholly known value as JSON according to `ty` (the state JSON
/// form). Unknown values are an error.
pub fn encode_json(value: &Value, ty: &Type) -> Result<serde_json::Value, CodecError> {
    to_json(value, ty, "")
}

fn to_json(value: &Value, ty: &Type, path: &str) -> Result<serde_json::Value, CodecError> {
    use serde_json::Value as J;
    match value {
        Value::Null => return Ok(J::Null),
        Value::Unknown => return Err(err(path, "unknown values cannot be encoded as JSON")),
        _ => {}
    }
    match (ty, value) {
        (Type::Dynamic, v) => {
            let t = v.infer_type();
            Ok(serde_json::json!({"value": to_json(v, &t, path)?, "type": t.to_json()}))
        }
        (Type::String, Value::String(s)) => Ok(J::String(s.clone())),
        (Type::Bool, Value::Bool(b)) => Ok(J::Bool(*b)),
        (Type::Number, Value::Number(n)) => match n.normalized() {
            Number::Int(i) => Ok(J::from(i)),
            Number::Float(f) => serde_json::Number::from_f64(f)
                .map(J::Number)
                .ok_or_else(|| err(path, "number is not finite")),
        },
        (Type::List(et) | Type::Set(et), Value::List(items) | Value::Set(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(to_json(item, et, &format!("{path}[{i}]"))?);
            }
            Ok(J::Array(out))
        }
        (Type::Map(et), Value::Map(m) | Value::Object(m)) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                out.insert(k.clone(), to_json(v, et, &format!("{path}[{k:?}]"))?);
            }
            Ok(J::Object(out))
        }
        (Type::Object(attrs), Value::Object(m) | Value::Map(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(err(path, format!("unsupported attribute {extra:?}")));
            }
            let mut out = serde_json::Map::new();
            for (name, at) in attrs {
                let v = m.get(name).unwrap_or(&Value::Null);
                out.insert(name.clone(), to_json(v, at, &attr_path(path, name))?);
            }
            Ok(J::Object(out))
        }
        (ty, _) => Err(err(path, format!("value does not conform to type {ty}"))),
    }
}
