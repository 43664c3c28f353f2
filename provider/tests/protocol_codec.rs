//! Value encodings: msgpack round trips (unknowns, nulls, nested blocks,
//! numbers, dynamic), JSON state decoding and the schema type encoding.

use std::collections::BTreeMap;

use route53delegation_provider::protocol::codec::{
    decode_json, decode_json_bytes, decode_msgpack, encode_json, encode_msgpack,
};
use route53delegation_provider::protocol::{
    Attribute, AttributePath, Block, NestedBlock, NestingMode, Number, Type, Value,
};
use serde_json::json;

fn schema_block() -> Block {
    Block::new()
        .attribute(Attribute::new("id", Type::String).computed())
        .attribute(Attribute::new("name", Type::String).required())
        .attribute(Attribute::new("ttl", Type::Number).optional())
        .attribute(Attribute::new("enabled", Type::Bool).optional())
        .attribute(Attribute::new("tags", Type::map(Type::String)).optional())
        .attribute(Attribute::new("servers", Type::list(Type::String)).computed())
        .attribute(Attribute::new("aliases", Type::set(Type::String)).optional())
        .attribute(
            Attribute::new("secret", Type::String)
                .optional()
                .sensitive()
                .write_only(),
        )
        .nested_block(NestedBlock::new(
            "parent",
            NestingMode::Single,
            Block::new()
                .attribute(Attribute::new("zone_id", Type::String).required())
                .attribute(Attribute::new("role_arn", Type::String).optional()),
        ))
        .nested_block(
            NestedBlock::new(
                "check",
                NestingMode::List,
                Block::new().attribute(Attribute::new("resolver", Type::String).required()),
            )
            .items(0, 3),
        )
}

fn sample() -> Value {
    Value::object([
        ("id", Value::Unknown),
        ("name", Value::string("dev.example.com")),
        ("ttl", Value::int(300)),
        ("enabled", Value::Bool(true)),
        (
            "tags",
            Value::Map(BTreeMap::from([("team".to_owned(), Value::string("dns"))])),
        ),
        (
            "servers",
            Value::List(vec![Value::string("ns-1.example"), Value::Unknown]),
        ),
        ("aliases", Value::Set(vec![])),
        ("secret", Value::Null),
        (
            "parent",
            Value::object([
                ("zone_id", Value::string("Z123")),
                ("role_arn", Value::Null),
            ]),
        ),
        (
            "check",
            Value::List(vec![Value::object([(
                "resolver",
                Value::string("127.0.0.53"),
            )])]),
        ),
    ])
}

#[test]
fn msgpack_round_trip_with_unknowns_nulls_and_blocks() {
    let ty = schema_block().implied_type();
    let v = sample();
    let bytes = encode_msgpack(&v, &ty).unwrap();
    assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), v);

    // Absent SINGLE block is null; empty LIST block is an empty list.
    let mut v2 = v.clone();
    v2.set("parent", Value::Null);
    v2.set("check", Value::List(vec![]));
    let bytes = encode_msgpack(&v2, &ty).unwrap();
    let back = decode_msgpack(&bytes, &ty).unwrap();
    assert!(back.get("parent").unwrap().is_null());
    assert_eq!(back.get("check").unwrap().as_list().unwrap().len(), 0);

    // Whole-value null and unknown.
    for whole in [Value::Null, Value::Unknown] {
        let b = encode_msgpack(&whole, &ty).unwrap();
        assert_eq!(decode_msgpack(&b, &ty).unwrap(), whole);
    }
}

#[test]
fn unknown_is_encoded_like_terraform_and_refined_unknowns_decode() {
    // fixext1, type 0: what Terraform and terraform-plugin-go emit.
    assert_eq!(
        encode_msgpack(&Value::Unknown, &Type::String).unwrap(),
        vec![0xd4, 0x00, 0x00]
    );
    assert_eq!(
        decode_msgpack(&[0xd4, 0x00, 0x00], &Type::String).unwrap(),
        Value::Unknown
    );
    // Refined unknown (ext type 12) with some payload.
    assert_eq!(
        decode_msgpack(&[0xc7, 0x02, 0x0c, 0x81, 0x01], &Type::String).unwrap(),
        Value::Unknown
    );
    // Other extension types are rejected, not mis-decoded.
    assert!(decode_msgpack(&[0xd4, 0x05, 0x00], &Type::String).is_err());
}

#[test]
fn numbers_keep_integers_exact() {
    let big = i64::MAX - 1;
    let b = encode_msgpack(&Value::int(big), &Type::Number).unwrap();
    assert_eq!(
        decode_msgpack(&b, &Type::Number).unwrap().as_i64(),
        Some(big)
    );
    let b = encode_msgpack(&Value::from(1.5), &Type::Number).unwrap();
    assert_eq!(
        decode_msgpack(&b, &Type::Number).unwrap(),
        Value::Number(Number::Float(1.5))
    );
    // Integral floats become ints; cty's string form for big numbers parses.
    let b = encode_msgpack(&Value::from(42.0), &Type::Number).unwrap();
    assert_eq!(decode_msgpack(&b, &Type::Number).unwrap(), Value::int(42));
    let mut s = Vec::new();
    rmpv::encode::write_value(&mut s, &rmpv::Value::from("12345")).unwrap();
    assert_eq!(
        decode_msgpack(&s, &Type::Number).unwrap(),
        Value::int(12345)
    );
}

#[test]
fn dynamic_values_round_trip() {
    let v = Value::List(vec![Value::string("a"), Value::string("b")]);
    let b = encode_msgpack(&v, &Type::Dynamic).unwrap();
    assert_eq!(decode_msgpack(&b, &Type::Dynamic).unwrap(), v);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let ty = schema_block().implied_type();
    for garbage in [
        &b""[..],
        b"\xd9",
        b"\x92\x01",
        b"\x81\xa3bad\x01",
        b"\xff\xff\xff",
        b"\x81\xa4name\x05",
    ] {
        assert!(decode_msgpack(garbage, &ty).is_err(), "{garbage:?}");
    }
    // Trailing bytes.
    let mut ok = encode_msgpack(&Value::Null, &ty).unwrap();
    ok.push(0);
    assert!(decode_msgpack(&ok, &ty).is_err());
    // Encoding a value that does not match the type.
    let err = encode_msgpack(&Value::object([("name", Value::int(1))]), &ty).unwrap_err();
    assert_eq!(err.path, "name");
    assert!(encode_msgpack(&Value::object([("nope", Value::Null)]), &ty).is_err());
}

#[test]
fn json_state_decoding() {
    let ty = schema_block().implied_type();
    let state = json!({
        "id": "abc", "name": "dev.example.com", "ttl": 300, "enabled": null,
        "tags": {"team": "dns"}, "servers": ["a", "b"], "aliases": [],
        "parent": {"zone_id": "Z1", "role_arn": null},
        "check": [{"resolver": "127.0.0.54"}]
    });
    let v = decode_json(&state, &ty).unwrap();
    assert_eq!(v.get_str("id"), Some("abc"));
    assert_eq!(v.get_i64("ttl"), Some(300));
    assert!(
        v.get("secret").unwrap().is_null(),
        "missing attributes are null"
    );
    assert_eq!(
        v.at_path(
            &AttributePath::attr("check")
                .then_index(0)
                .then_attr("resolver")
        )
        .and_then(Value::as_str),
        Some("127.0.0.54")
    );
    assert_eq!(
        v.at_path(&AttributePath::attr("tags").then_key("team"))
            .and_then(Value::as_str),
        Some("dns")
    );
    // JSON round trip.
    let back = encode_json(&v, &ty).unwrap();
    assert_eq!(decode_json(&back, &ty).unwrap(), v);
    assert!(decode_json_bytes(b"{not json", &ty).is_err());
    assert!(decode_json(&json!({"unknown_attr": 1}), &ty).is_err());
}

#[test]
fn schema_type_json_encoding() {
    assert_eq!(Type::String.to_json(), json!("string"));
    assert_eq!(Type::Number.to_json(), json!("number"));
    assert_eq!(Type::Bool.to_json(), json!("bool"));
    assert_eq!(Type::Dynamic.to_json(), json!("dynamic"));
    assert_eq!(
        Type::list(Type::String).to_json(),
        json!(["list", "string"])
    );
    assert_eq!(Type::set(Type::Number).to_json(), json!(["set", "number"]));
    assert_eq!(Type::map(Type::Bool).to_json(), json!(["map", "bool"]));
    let obj = Type::object([("a", Type::String), ("b", Type::list(Type::Number))]);
    assert_eq!(
        obj.to_json(),
        json!(["object", {"a": "string", "b": ["list", "number"]}])
    );
    assert_eq!(
        String::from_utf8(Type::list(Type::String).to_json_bytes()).unwrap(),
        r#"["list","string"]"#
    );
    assert_eq!(Type::from_json(&obj.to_json()).unwrap(), obj);
    assert_eq!(obj.to_string(), "object({a=string, b=list(number)})");
}

#[test]
fn implied_type_and_write_only_nulling() {
    let block = schema_block();
    let ty = block.implied_type();
    let attrs = ty.object_attrs().unwrap();
    assert_eq!(
        attrs["parent"],
        Type::object([("zone_id", Type::String), ("role_arn", Type::String)])
    );
    assert_eq!(
        attrs["check"],
        Type::list(Type::object([("resolver", Type::String)]))
    );

    let mut v = sample();
    v.set("secret", Value::string("hunter2"));
    let cleaned = block.null_write_only(&v);
    assert!(cleaned.get("secret").unwrap().is_null());
    assert_eq!(cleaned.get("name"), v.get("name"));
    assert!(block.has_secrets());
}

#[test]
fn value_getters() {
    let v = sample();
    assert_eq!(v.get_str("name"), Some("dev.example.com"));
    assert_eq!(v.get_bool("enabled"), Some(true));
    assert!(v.get("id").unwrap().is_unknown());
    assert!(!v.is_wholly_known());
    assert!(v.is_known());
    assert_eq!(
        v.get("parent").and_then(|p| p.get_str("zone_id")),
        Some("Z123")
    );
    assert_eq!(v.get("missing"), None);
    assert_eq!(Value::from(Some("x")), Value::string("x"));
    assert_eq!(Value::from(None::<&str>), Value::Null);
    assert_eq!(
        AttributePath::attr("a")
            .then_index(2)
            .then_key("k")
            .to_string(),
        "a[2][\"k\"]"
    );
}

#[test]
fn lenient_json_drops_removed_attributes() {
    use route53delegation_provider::protocol::codec::decode_json_lenient;
    let ty = Type::object([("name", Type::String)]);
    let v = decode_json_lenient(&json!({"name": "a", "removed": {"x": 1}}), &ty).unwrap();
    assert_eq!(v, Value::object([("name", Value::string("a"))]));
}

#[test]
fn schema_validation_catches_what_terraform_rejects() {
    use route53delegation_provider::protocol::Schema;
    assert!(Schema::new(0, schema_block()).validate().is_ok());
    let bad = Block::new()
        .attribute(Attribute::new("Bad-Name", Type::String).optional())
        .attribute(Attribute::new("neither", Type::String))
        .attribute(Attribute::new("both", Type::String).required().computed())
        .attribute(
            Attribute::new("wo", Type::String)
                .optional()
                .computed()
                .write_only(),
        )
        .nested_block(NestedBlock::new("neither", NestingMode::Single, Block::new()).items(0, 2));
    let problems = Schema::new(0, bad).validate().unwrap_err();
    assert_eq!(problems.len(), 6, "{problems:#?}");
}
