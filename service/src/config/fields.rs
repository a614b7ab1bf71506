//! The top-level field names of a config struct, read from its serde
//! `Deserialize` implementation, so keys whose default is unset (`Option`
//! fields, absent from the serialized defaults) are still known keys.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The names `T` asks for when deserialized as a struct; empty when `T` is
/// not a struct.
pub fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldRecorder { names: &mut names });
    names
}

/// A deserializer that records the field list of the struct asked for and
/// then fails (no value is ever produced).
struct FieldRecorder<'a> {
    names: &'a mut &'static [&'static str],
}

/// The error [`FieldRecorder`] ends every deserialization with.
#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names recorded")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_msg: T) -> Self {
        Stop
    }
}

impl<'de> Deserializer<'de> for FieldRecorder<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        *self.names = fields;
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        listen: String,
        database_url: Option<String>,
        #[serde(rename = "renamed_key")]
        other: u32,
    }

    #[test]
    fn reads_every_field_including_options_and_renames() {
        assert_eq!(
            field_names::<Sample>(),
            &["listen", "database_url", "renamed_key"]
        );
        assert!(field_names::<u32>().is_empty());
    }
}
