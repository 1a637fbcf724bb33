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

pub fn s(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        Some(AttributeValue::N(v)) => v.clone(),
        other => panic!("attribute {name}: {other:?}"),
    }
}

/// A field of the lease item's `holder` map.
pub fn holder_field(item: &Item, name: &str) -> String {
    match item.get("holder") {
        Some(AttributeValue::M(h)) => s(h, name),
        other => panic!("holder: {other:?}"),
    }
}
