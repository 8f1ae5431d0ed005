//! Reading back the JSON a run writes. JSON has no NaN, and serde_json writes a NaN `f64` as `null`; a
//! measure a run could not give (a stage it did not have, a fit with too few points) is NaN. [`from_str`]
//! reads such a file into its Rust type with every `null` that stands where a number is expected read
//! back as NaN, at any depth, so that no reader has to fall back on untyped `serde_json::Value` lookups.
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Fit { slope: f64, points: Vec<(String, f64)>, note: Option<String> }
//! let f: Fit = reachlab_scenarios::json::from_str(r#"{"slope": null, "points": [["a", null]], "note": null}"#).unwrap();
//! assert!(f.slope.is_nan() && f.points[0].1.is_nan() && f.note.is_none());
//! ```

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{DeserializeOwned, Deserializer, EnumAccess, IntoDeserializer, VariantAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Error, Value};

/// Parses `text` as `T`, reading `null` as NaN wherever `T` expects an `f64` or `f32`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    let v: Value = serde_json::from_str(text)?;
    T::deserialize(NanNull(v))
}

/// A JSON value whose nulls read as NaN where a float is asked for.
struct NanNull(Value);

impl IntoDeserializer<'_, Error> for NanNull {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for NanNull {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(a) => {
                let mut seq = SeqDeserializer::new(a.into_iter().map(NanNull));
                let out = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            Value::Object(m) => {
                let mut map = MapDeserializer::new(m.into_iter().map(|(k, v)| (k, NanNull(v))));
                let out = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(out)
            }
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_f64(f64::NAN),
            other => other.deserialize_f64(visitor),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_f32(f32::NAN),
            other => other.deserialize_f32(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(NanNull(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            // A unit variant is its name; any other is `{ "variant": content }`.
            Value::String(s) => visitor.visit_enum(Enum {
                variant: s,
                content: None,
            }),
            Value::Object(m) if m.len() == 1 => {
                let (variant, content) = m.into_iter().next().expect("one entry");
                visitor.visit_enum(Enum {
                    variant,
                    content: Some(content),
                })
            }
            other => other.deserialize_enum(name, variants, visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string bytes byte_buf unit unit_struct seq
        tuple tuple_struct map struct identifier ignored_any
    }
}

/// An enum variant and what it holds.
struct Enum {
    variant: String,
    content: Option<Value>,
}

impl<'de> EnumAccess<'de> for Enum {
    type Error = Error;
    type Variant = Self;
    fn variant_seed<S: serde::de::DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        let v = seed.deserialize(self.variant.as_str().into_deserializer())?;
        Ok((v, self))
    }
}

impl<'de> VariantAccess<'de> for Enum {
    type Error = Error;
    fn unit_variant(self) -> Result<(), Error> {
        match self.content {
            None | Some(Value::Null) => Ok(()),
            Some(_) => Err(serde::de::Error::custom("expected a unit variant")),
        }
    }
    fn newtype_variant_seed<S: serde::de::DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(NanNull(self.content.unwrap_or(Value::Null)))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        NanNull(self.content.unwrap_or(Value::Null)).deserialize_any(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        NanNull(self.content.unwrap_or(Value::Null)).deserialize_any(visitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Stable,
        Saddle { unstable: usize, speed: f64 },
        Scaled(f64),
    }

    #[derive(Debug, Serialize, Deserialize)]
    struct Record {
        x: f64,
        pair: [f64; 2],
        rows: Vec<(String, Vec<f64>)>,
        kinds: Vec<Kind>,
        maybe: Option<f64>,
        small: f32,
    }

    #[test]
    fn nan_written_as_null_reads_back_as_nan_at_any_depth() {
        let r = Record {
            x: f64::NAN,
            pair: [1.0, f64::NAN],
            rows: vec![("a".into(), vec![f64::NAN, 2.0])],
            kinds: vec![
                Kind::Stable,
                Kind::Saddle {
                    unstable: 2,
                    speed: f64::NAN,
                },
                Kind::Scaled(f64::NAN),
            ],
            maybe: Some(3.0),
            small: f32::NAN,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("null"), "{text}");
        assert!(
            serde_json::from_str::<Record>(&text).is_err(),
            "plain serde_json refuses null as f64"
        );
        let back: Record = super::from_str(&text).unwrap();
        assert!(back.x.is_nan() && back.small.is_nan());
        assert_eq!(back.pair[0], 1.0);
        assert!(back.pair[1].is_nan() && back.rows[0].1[0].is_nan());
        assert_eq!(back.rows[0].1[1], 2.0);
        assert_eq!(back.kinds[0], Kind::Stable);
        assert!(matches!(back.kinds[1], Kind::Saddle { unstable: 2, speed } if speed.is_nan()));
        assert!(matches!(back.kinds[2], Kind::Scaled(s) if s.is_nan()));
        assert_eq!(back.maybe, Some(3.0));
        // An optional number that was None stays None.
        let none: Record = super::from_str(&text.replace("\"maybe\":3.0", "\"maybe\":null")).unwrap();
        assert_eq!(none.maybe, None);
        // Errors still name what is wrong.
        let e = super::from_str::<Record>(&text.replace("\"x\":null", "\"x\":\"text\"")).unwrap_err();
        assert!(e.to_string().contains("invalid type"), "{e}");
    }
}
