//! Subscription fan-out benchmark (the realtime issue): N WebSocket subscribers
//! of `usersChanged` on one server; reports the server's memory per idle
//! subscription and the latency from a profile update's commit (its
//! `updatedAt`) to its delivery at every subscriber, p50/p99; and the CPU
//! time the servers and this load client spent per delivery during the
//! updates (on a shared two-core machine, their sum bounds how fast a
//! one-to-all fan-out can finish).
//!
//! `ws_bench N WS_URLS HTTP_URL SECRET_KEY USER_TOKEN SERVER_PIDS`
//!
//! `WS_URLS` and `SERVER_PIDS` may list several instances (comma-separated):
//! subscribers are spread over them in turn, updates go to `HTTP_URL`, and
//! memory is the sum over the servers.
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn rss_kib(pids: &str) -> u64 {
    pids.split(',').map(rss_kib_one).sum()
}

fn rss_kib_one(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn subscriber(
    url: String,
    key: String,
    ready: mpsc::Sender<()>,
    latencies: mpsc::UnboundedSender<f64>,
) -> anyhow::Result<()> {
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    // tungstenite's default 128 KiB read buffer is zeroed on every read: with
    // 10,000 clients on the server's cores, that memset alone skewed the latency.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), true).await?;
    ws.send(Message::Text(
        json!({"type": "connection_init", "payload": {"x-api-key": key}})
            .to_string()
            .into(),
    ))
    .await?;
    let sub = json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { usersChanged { user { updatedAt } } }"}});
    let mut subscribed = false;
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg? else { continue };
        // Deliveries are read without building a JSON tree: the client shares
        // the two cores with the server, and its own cost would count as latency.
        if let Some(at) = delivered_at(&text) {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(at) {
                let ms = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
                    .num_microseconds()
                    .unwrap_or(0) as f64
                    / 1000.0;
                let _ = latencies.send(ms);
            }
            continue;
        }
        let v: Value = serde_json::from_str(&text)?;
        match v["type"].as_str() {
            Some("connection_ack") if !subscribed => {
                ws.send(Message::Text(sub.to_string().into())).await?;
                subscribed = true;
                // The subscription is registered once the server has read it.
                tokio::time::sleep(Duration::from_millis(200)).await;
                let _ = ready.send(()).await;
            }
            Some("ping") => {
                ws.send(Message::Text(json!({"type": "pong"}).to_string().into()))
                    .await?
            }
            _ => {}
        }
    }
    Ok(())
}

/// The `updatedAt` of a `next` message, found without parsing the message.
fn delivered_at(text: &str) -> Option<&str> {
    if !text.contains("\"next\"") {
        return None;
    }
    let start = text.find("\"updatedAt\":\"")? + "\"updatedAt\":\"".len();
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

/// CPU seconds (user + system) a process has used so far.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn cpu_total(pids: &str) -> f64 {
    pids.split(',').map(cpu_secs).sum()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let (n, ws_url, http_url, key, token, pid): (usize, _, _, _, _, _) = (
        a[1].parse()?,
        a[2].clone(),
        a[3].clone(),
        a[4].clone(),
        a[5].clone(),
        a[6].clone(),
    );
    let base_rss = rss_kib(&pid);
    let (ready_tx, mut ready_rx) = mpsc::channel(n);
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let ws_urls: Vec<String> = ws_url.split(',').map(str::to_owned).collect();
    for i in 0..n {
        tokio::spawn(subscriber(
            ws_urls[i % ws_urls.len()].clone(),
            key.clone(),
            ready_tx.clone(),
            lat_tx.clone(),
        ));
        // Connect in waves, not as one SYN flood.
        if i % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut ready = 0;
    while ready < n {
        match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
            Ok(Some(())) => ready += 1,
            _ => break,
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = rss_kib(&pid);
    let http = reqwest::Client::new();
    let mut all = Vec::new();
    let rounds = 5;
    let (mut server_cpu, mut client_cpu) = (0.0, 0.0);
    for round in 0..rounds {
        let (s0, c0) = (cpu_total(&pid), cpu_secs("self"));
        let body = json!({"query": "mutation($d: JSON) { updateMe(input: {data: $d}) { id } }", "variables": {"d": {"round": round}}});
        http.post(format!("{http_url}/graphql"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut got = Vec::with_capacity(ready);
        while got.len() < ready && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(500), lat_rx.recv()).await {
                Ok(Some(ms)) => got.push(ms),
                _ => {}
            }
        }
        server_cpu += cpu_total(&pid) - s0;
        client_cpu += cpu_secs("self") - c0;
        got.sort_by(f64::total_cmp);
        eprintln!(
            "round {round}: {} deliveries, p50 {:.1} ms, p99 {:.1} ms",
            got.len(),
            pct(&got, 0.5),
            pct(&got, 0.99)
        );
        all.extend(got);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    all.sort_by(f64::total_cmp);
    println!("| subscribers connected | {ready} of {n} (in {connect_secs:.1} s) |");
    println!(
        "| server RSS before / with idle subscriptions | {} MiB / {} MiB |",
        base_rss / 1024,
        idle_rss / 1024
    );
    println!(
        "| memory per idle subscription | {:.1} KiB |",
        (idle_rss.saturating_sub(base_rss)) as f64 / ready.max(1) as f64
    );
    println!(
        "| deliveries (5 updates × subscribers) | {} of {} |",
        all.len(),
        rounds * ready
    );
    println!(
        "| commit → delivery p50 / p99 | {:.1} ms / {:.1} ms |",
        pct(&all, 0.5),
        pct(&all, 0.99)
    );
    let delivered = all.len().max(1) as f64;
    println!(
        "| CPU per delivery, server / load client | {:.1} µs / {:.1} µs |",
        server_cpu * 1e6 / delivered,
        client_cpu * 1e6 / delivered
    );
    Ok(())
}
