//! The Nexmark event stream written by `rivulet nexmark-json` reads back
//! through the `filesystem` connector as exactly the rows the `nexmark`
//! connector produces: the two forms in which the Nexmark queries run.

use std::time::Duration;

use crate::support::{TestCluster, nexmark_example, read_parts};

/// Every column of the stream that a query could read, flattened.
const COLUMNS: &str = "event_type, person.id, person.name, person.emailAddress, person.creditCard, \
    person.city, person.state, person.dateTime, person.extra, auction.id, auction.itemName, \
    auction.description, auction.initialBid, auction.reserve, auction.dateTime, auction.expires, \
    auction.seller, auction.category, auction.extra, bid.auction, bid.bidder, bid.price, \
    bid.channel, bid.url, bid.dateTime, bid.extra";

const SINK_COLUMNS: &str = "event_type INT, p_id BIGINT, p_name STRING, p_email STRING, \
    p_card STRING, p_city STRING, p_state STRING, p_time TIMESTAMP(3), p_extra STRING, \
    a_id BIGINT, a_item STRING, a_description STRING, a_initial BIGINT, a_reserve BIGINT, \
    a_time TIMESTAMP(3), a_expires TIMESTAMP(3), a_seller BIGINT, a_category BIGINT, \
    a_extra STRING, b_auction BIGINT, b_bidder BIGINT, b_price BIGINT, b_channel STRING, \
    b_url STRING, b_time TIMESTAMP(3), b_extra STRING";

/// Runs the example source table `source` (one of `examples/nexmark/`)
/// into a csv file of every column; the rows, sorted.
async fn run_to_rows(cluster: &TestCluster, source: &str, parameter: (&str, &str)) -> Vec<String> {
    let output = tempfile::tempdir().unwrap();
    let table = nexmark_example(source).replace(parameter.0, parameter.1);
    let script = format!(
        "SET 'parallelism.default' = '2';
{table}
CREATE TABLE out ({SINK_COLUMNS}) WITH (
  'connector' = 'filesystem', 'path' = '{}', 'format' = 'csv');
INSERT INTO out SELECT {COLUMNS} FROM datagen;",
        output.path().display()
    );
    let job = cluster.submit_script(&script).await;
    cluster
        .wait_for_status(&job, "FINISHED", Duration::from_secs(30))
        .await;
    let mut rows: Vec<String> = read_parts(output.path()).into_values().flatten().collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn the_json_lines_file_holds_the_connectors_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nexmark.json");
    let options =
        std::collections::BTreeMap::from([("events.num".to_string(), "3000".to_string())]);
    let spec = rivulet::nexmark_json::spec(&options).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    assert_eq!(
        rivulet::nexmark_json::write_events(&spec, &mut file).unwrap(),
        3000
    );
    drop(file);

    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "4")]).await;
    let from_connector = run_to_rows(&cluster, "source-connector.sql", ("${events}", "3000")).await;
    let from_file = run_to_rows(
        &cluster,
        "source-file.sql",
        ("${path}", path.to_str().unwrap()),
    )
    .await;
    cluster.stop().await;
    assert_eq!(from_connector.len(), 3000);
    assert_eq!(from_connector, from_file);
}
