//! Protocol-neutral Terraform values and types.
//!
//! [`Value`] is what the resource code sees; it is converted from and to the
//! wire encodings (msgpack, JSON) in [`crate::protocol::codec`], always driven
//! by a [`Type`] (usually [`crate::protocol::schema::Block::implied_type`]).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::json;

use super::diag::{AttributePath, PathStep};

/// A Terraform number. Integers are kept exact; everything else is an `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer that fits in an `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
}

impl Number {
    /// The number as an `i64`, if it is integral and in range.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) => {
                // `i64::MAX as f64` rounds up to 2^63, so the upper bound is
                // exclusive.
                if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                    Some(f as i64)
                } else {
                    None
                }
            }
        }
    }

    /// The number as an `f64` (possibly losing precision).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// Normalises integral floats to [`Number::Int`].
    pub fn normalized(self) -> Number {
        match self.as_i64() {
            Some(i) => Number::Int(i),
            None => self,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// A Terraform (cty) value, independent of the wire encoding.
///
/// Nested blocks appear as values too: a `SINGLE` block is an
/// [`Value::Object`] (or [`Value::Null`] when absent), a `LIST` block a
/// [`Value::List`] of objects, a `SET` block a [`Value::Set`] of objects.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// A null value (attribute not set, resource gone, ...).
    #[default]
    Null,
    /// A value not known until apply.
    Unknown,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A set (elements in wire order; Terraform does not rely on it).
    Set(Vec<Value>),
    /// A map with string keys.
    Map(BTreeMap<String, Value>),
    /// An object (resource state, config, nested block).
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// Builds an object from `(name, value)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An integer number value.
    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True for [`Value::Unknown`] (at the top level only).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True unless this value is [`Value::Unknown`] (at the top level only).
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// True if neither this value nor anything nested in it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) => v.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// Attribute `name` of an object (or key of a map). `None` when this is
    /// not an object/map or the attribute is missing.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) | Value::Map(m) => m.get(name),
            _ => None,
        }
    }

    /// Mutable access to attribute `name` of an object (or key of a map).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) | Value::Map(m) => m.get_mut(name),
            _ => None,
        }
    }

    /// Sets attribute `name` of an object or map; returns false (and does
    /// nothing) if this value is neither.
    pub fn set(&mut self, name: impl Into<String>, value: Value) -> bool {
        match self {
            Value::Object(m) | Value::Map(m) => {
                m.insert(name.into(), value);
                true
            }
            _ => false,
        }
    }

    /// Element `index` of a list or set.
    pub fn index(&self, index: usize) -> Option<&Value> {
        match self {
            Value::List(v) | Value::Set(v) => v.get(index),
            _ => None,
        }
    }

    /// Follows an [`AttributePath`] from this value.
    pub fn at_path(&self, path: &AttributePath) -> Option<&Value> {
        let mut cur = self;
        for step in path.steps() {
            cur = match step {
                PathStep::AttributeName(n) | PathStep::ElementKeyString(n) => cur.get(n)?,
                PathStep::ElementKeyInt(i) => cur.index(usize::try_from(*i).ok()?)?,
            };
        }
        Some(cur)
    }

    /// The string, if this is a [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a [`Value::Bool`].
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a [`Value::Number`].
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as an integer, if this is an integral [`Value::Number`].
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// Elements of a list or set.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }

    /// Entries of an object or map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Object(m) | Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Shorthand: attribute `name` as a string (None if missing, null,
    /// unknown or not a string).
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// Shorthand: attribute `name` as a bool.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    /// Shorthand: attribute `name` as an integer.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_i64)
    }

    /// Best-effort inference of this value's type, used to encode values of
    /// `dynamic` type. Empty or unknown collections default to `string`
    /// elements; null and unknown values are `dynamic`.
    pub fn infer_type(&self) -> Type {
        let elem = |v: &[Value]| {
            v.iter()
                .find(|e| !e.is_null() && e.is_known())
                .map_or(Type::String, Value::infer_type)
        };
        match self {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(v) => Type::List(Box::new(elem(v))),
            Value::Set(v) => Type::Set(Box::new(elem(v))),
            Value::Map(m) => {
                let v: Vec<Value> = m.values().cloned().collect();
                Type::Map(Box::new(elem(&v)))
            }
            Value::Object(m) => {
                Type::Object(m.iter().map(|(k, v)| (k.clone(), v.infer_type())).collect())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Number(Number::Int(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Number(Number::Float(f))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

/// A Terraform (cty) type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// `dynamic` (any type; encoded with its concrete type on the wire)
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`
    Object(BTreeMap<String, Type>),
}

impl Type {
    /// `list(elem)`
    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }

    /// `set(elem)`
    pub fn set(elem: Type) -> Type {
        Type::Set(Box::new(elem))
    }

    /// `map(elem)`
    pub fn map(elem: Type) -> Type {
        Type::Map(Box::new(elem))
    }

    /// `object({...})` from `(name, type)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    /// The cty JSON type encoding used in schemas, e.g. `"string"`,
    /// `["list","string"]`, `["object",{"a":"number"}]`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::Dynamic => json!("dynamic"),
            Type::List(t) => json!(["list", t.to_json()]),
            Type::Set(t) => json!(["set", t.to_json()]),
            Type::Map(t) => json!(["map", t.to_json()]),
            Type::Object(attrs) => {
                let m: serde_json::Map<String, serde_json::Value> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                json!(["object", m])
            }
        }
    }

    /// [`Type::to_json`] serialised to bytes (the schema wire form).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses the cty JSON type encoding.
    pub fn from_json(v: &serde_json::Value) -> Result<Type, String> {
        match v {
            serde_json::Value::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(format!("unsupported primitive type {other:?}")),
            },
            serde_json::Value::Array(a) if a.len() == 2 => {
                let kind = a[0].as_str().ok_or("type kind must be a string")?;
                match kind {
                    "list" => Ok(Type::list(Type::from_json(&a[1])?)),
                    "set" => Ok(Type::set(Type::from_json(&a[1])?)),
                    "map" => Ok(Type::map(Type::from_json(&a[1])?)),
                    "object" => {
                        let m = a[1].as_object().ok_or("object attributes must be a map")?;
                        let mut attrs = BTreeMap::new();
                        for (k, t) in m {
                            attrs.insert(k.clone(), Type::from_json(t)?);
                        }
                        Ok(Type::Object(attrs))
                    }
                    other => Err(format!("unsupported type kind {other:?}")),
                }
            }
            _ => Err("malformed type".to_owned()),
        }
    }

    /// The attribute types if this is an object type.
    pub fn object_attrs(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(m) => Some(m),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    /// Terraform-style type expression, e.g. `list(string)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object(attrs) => {
                f.write_str("object({")?;
                for (i, (k, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={t}")?;
                }
                f.write_str("})")
            }
        }
    }
}
