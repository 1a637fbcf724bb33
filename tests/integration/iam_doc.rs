//! docs/iam.md stays true: every AWS operation tflock's source calls is
//! named there with the IAM action that authorises it.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The SDK operations called in `source`: `….client.get_item()`, with any
/// whitespace (rustfmt breaks long chains) between the parts.
fn operations(source: &str) -> Vec<String> {
    let mut ops = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".client") {
        rest = &rest[at + ".client".len()..];
        let after = rest.trim_start();
        let Some(call) = after.strip_prefix('.') else {
            continue;
        };
        let name: String = call
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if call[name.len()..].starts_with("()") {
            ops.push(name);
        }
    }
    ops
}

/// The IAM actions an operation needs, as docs/iam.md spells them.
fn actions(operation: &str) -> Vec<String> {
    let camel: String = operation
        .split('_')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect();
    match operation {
        "head_bucket" => vec!["s3:ListBucket".into()],
        // HeadObject is authorised as a read of the object.
        "head_object" => vec!["s3:GetObject".into()],
        "copy_object" => vec!["s3:GetObject".into(), "s3:PutObject".into()],
        "list_object_versions" => vec!["s3:ListBucketVersions".into()],
        "get_bucket_encryption" => vec!["s3:GetEncryptionConfiguration".into()],
        "get_object" | "delete_object" | "get_bucket_versioning" => vec![format!("s3:{camel}")],
        // DynamoDB: the table column names them without the prefix.
        _ => vec![format!("`{camel}`")],
    }
}

#[test]
fn iam_doc_names_every_aws_operation_tflock_calls() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/iam.md")).unwrap();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut ops: Vec<String> = files
        .iter()
        .flat_map(|f| operations(&std::fs::read_to_string(f).unwrap()))
        .collect();
    ops.sort();
    ops.dedup();
    // The scan finds the calls (a regression here would make the check empty).
    for expected in ["update_item", "get_item", "get_object", "head_bucket"] {
        assert!(
            ops.iter().any(|o| o == expected),
            "{expected} not found in {ops:?}"
        );
    }
    let missing: Vec<String> = ops
        .iter()
        .flat_map(|op| actions(op).into_iter().map(move |a| (op.clone(), a)))
        .filter(|(_, action)| !doc.contains(action.as_str()))
        .map(|(op, action)| format!("{op} needs {action}"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/iam.md does not name: {missing:#?}"
    );
}

#[test]
fn the_scan_sees_calls_split_across_lines() {
    let ops = operations(
        "self.dynamo\n    .client\n    .update_item()\n; s3.client.get_object().x; a.client_id()",
    );
    assert_eq!(ops, ["update_item", "get_object"]);
}
