//! The lock table's key schema: tflock, like terraform, needs a table whose
//! only key is `LockID` (String).

use aws_sdk_dynamodb::types::TableDescription;

use crate::error::Error;

/// The only key schema tflock (like terraform) can use, as [`key_schema`] writes it.
pub const LOCK_KEY_SCHEMA: &str = "LockID (S)";

/// A table's key schema as "LockID (S)" or "id (S), sort (N)".
pub fn key_schema(table: &TableDescription) -> String {
    let type_of = |name: &str| {
        table
            .attribute_definitions()
            .iter()
            .find(|d| d.attribute_name() == name)
            .map(|d| d.attribute_type().as_str().to_string())
            .unwrap_or_else(|| "?".into())
    };
    table
        .key_schema()
        .iter()
        .map(|k| format!("{} ({})", k.attribute_name(), type_of(k.attribute_name())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The error for a table tflock cannot use.
pub fn wrong_schema(table: &str, schema: &str) -> Error {
    Error::config(format!(
        "table {table} has the key schema {schema}; tflock, like terraform, needs a table whose \
         only key is LockID (String): choose another table name"
    ))
}
