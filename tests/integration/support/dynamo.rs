//! Direct DynamoDB access for tests: creating tables and inspecting or
//! planting items, through the same SDK tflock uses.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};

pub type Item = HashMap<String, AttributeValue>;

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

pub struct Dynamo {
    endpoint: String,
}

impl Dynamo {
    pub fn new(endpoint: String) -> Dynamo {
        Dynamo { endpoint }
    }

    fn client(&self) -> Client {
        let creds = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests");
        let conf = aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(&self.endpoint)
            .build();
        Client::from_conf(conf)
    }

    pub fn create_table(&self, name: &str, key: &str, key_type: ScalarAttributeType) {
        block_on(async {
            self.client()
                .create_table()
                .table_name(name)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(key)
                        .attribute_type(key_type)
                        .build()
                        .unwrap(),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(key)
                        .key_type(KeyType::Hash)
                        .build()
                        .unwrap(),
                )
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await
                .expect("create table")
        });
    }

    pub fn get(&self, table: &str, lock_id: &str) -> Option<Item> {
        block_on(async {
            self.client()
                .get_item()
                .table_name(table)
                .key("LockID", AttributeValue::S(lock_id.into()))
                .consistent_read(true)
                .send()
                .await
                .expect("get item")
                .item
        })
    }

    pub fn put(&self, table: &str, item: Item) {
        block_on(async {
            self.client()
                .put_item()
                .table_name(table)
                .set_item(Some(item))
                .send()
                .await
                .expect("put item")
        });
    }

    /// Appends strings to the list `name` of an item, as tflock's history
    /// does (`list_append`); false when the item cannot grow that much.
    pub fn append(&self, table: &str, lock_id: &str, name: &str, values: Vec<String>) -> bool {
        block_on(async {
            let out = self
                .client()
                .update_item()
                .table_name(table)
                .key("LockID", AttributeValue::S(lock_id.into()))
                .update_expression("SET #l = list_append(if_not_exists(#l, :empty), :new)")
                .expression_attribute_names("#l", name)
                .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
                .expression_attribute_values(
                    ":new",
                    AttributeValue::L(values.into_iter().map(AttributeValue::S).collect()),
                )
                .send()
                .await;
            match out {
                Ok(_) => true,
                Err(e) => {
                    let e = e.into_service_error();
                    assert!(
                        e.meta()
                            .message()
                            .unwrap_or("")
                            .contains("maximum allowed size"),
                        "append: {e:?}"
                    );
                    false
                }
            }
        })
    }

    pub fn scan(&self, table: &str) -> Vec<Item> {
        block_on(async {
            self.client()
                .scan()
                .table_name(table)
                .send()
                .await
                .expect("scan")
                .items
                .unwrap_or_default()
        })
    }
}

/// A string or number attribute; in a lease item, a field of its `lease`
/// map when the item has no attribute of that name.
pub fn s(item: &Item, name: &str) -> String {
    match (item.get(name), item.get("lease")) {
        (Some(AttributeValue::S(v)), _) => v.clone(),
        (Some(AttributeValue::N(v)), _) => v.clone(),
        (None, Some(AttributeValue::M(lease))) => s(lease, name),
        (other, _) => panic!("attribute {name}: {other:?}"),
    }
}

/// Whether an item has the attribute, or its `lease` map the field.
pub fn has(item: &Item, name: &str) -> bool {
    item.contains_key(name) || m(item, "lease").is_some_and(|l| l.contains_key(name))
}

/// A map attribute, or a map field of a lease item's `lease` map.
pub fn m<'a>(item: &'a Item, name: &str) -> Option<&'a Item> {
    match (item.get(name), item.get("lease")) {
        (Some(AttributeValue::M(v)), _) => Some(v),
        (None, Some(AttributeValue::M(lease))) => m(lease, name),
        _ => None,
    }
}

/// A field of the lease item's `holder` map.
pub fn holder_field(item: &Item, name: &str) -> String {
    match m(item, "holder") {
        Some(h) => s(h, name),
        None => panic!("holder: {item:?}"),
    }
}

/// A lease item written the way a test describes it, flat: the fields of the
/// `lease` map (`tflock` for its format marker) beside the attributes that
/// stay at the top (the key, fence, line and the like). Nothing flat: no
/// lease map.
pub fn lease_item(flat: Item) -> Item {
    const TOP: &[&str] = &[
        "LockID",
        "fence",
        "gc_at",
        "state_seen",
        "next_ticket",
        "serving",
        "runs",
        "run_0",
        "run_1",
        "run_2",
        "run_3",
        "note",
    ];
    let mut item = Item::new();
    let mut lease = Item::new();
    for (name, value) in flat {
        if TOP.contains(&name.as_str()) || name.starts_with("wait_") {
            item.insert(name, value);
        } else if name == "tflock" {
            lease.insert("format".into(), value);
        } else {
            lease.insert(name, value);
        }
    }
    if !lease.is_empty() {
        item.insert("lease".into(), AttributeValue::M(lease));
    }
    item
}
