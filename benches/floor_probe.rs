//! The emulator's floor for a lock-shaped process, beside which the bench
//! (benches/bench.py) times `tflock run -- true`: with the same crates and
//! HTTP client as tflock, load the AWS configuration, write a small item
//! (conditional PutItem), run the command, delete the item (conditional
//! DeleteItem). Not a lock: no lease, no fence, no queue, no record. It is
//! issue #6's "config load + PutItem + DeleteItem" probe.
//!
//! usage: TFLOCK_TABLE=T AWS_ENDPOINT_URL=http://… floor_probe COMMAND [ARG…]
//! Prints the two requests' times on stderr: `put_ms=… delete_ms=…`.
use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let table = std::env::var("TFLOCK_TABLE").expect("TFLOCK_TABLE");
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&conf);
    let key = AttributeValue::S(format!("floor-probe:{}", std::process::id()));
    let token = AttributeValue::S(uuid::Uuid::new_v4().to_string());
    let start = Instant::now();
    client
        .put_item()
        .table_name(&table)
        .item("LockID", key.clone())
        .item("token", token.clone())
        .condition_expression("attribute_not_exists(LockID)")
        .send()
        .await
        .expect("PutItem");
    let put = start.elapsed();
    let status = std::process::Command::new(&args[0])
        .args(&args[1..])
        .status()
        .expect("the command");
    let start = Instant::now();
    client
        .delete_item()
        .table_name(&table)
        .key("LockID", key)
        .condition_expression("#token = :token")
        .expression_attribute_names("#token", "token")
        .expression_attribute_values(":token", token)
        .send()
        .await
        .expect("DeleteItem");
    let delete = start.elapsed();
    eprintln!(
        "put_ms={:.2} delete_ms={:.2}",
        put.as_secs_f64() * 1000.0,
        delete.as_secs_f64() * 1000.0
    );
    std::process::exit(status.code().unwrap_or(1));
}
