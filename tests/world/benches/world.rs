//! `cargo bench -p r53world`: start-up time and DNS queries/second on
//! loopback. Prints numbers; asserts nothing about timing.
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use r53world::{dns, RecordType, World, WorldConfig};

async fn qps(server: SocketAddr, name: &str, rec: bool, n: usize, conc: usize) -> f64 {
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let name = name.to_string();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            for _ in 0..n / conc {
                if let Ok(Ok(_)) = tokio::time::timeout(
                    Duration::from_secs(1),
                    dns::query(server, &name, RecordType::SOA, rec),
                )
                .await
                {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.unwrap_or(0);
    }
    ok as f64 / t0.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut times = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let w = World::start(WorldConfig::for_test())
            .await
            .expect("start world");
        times.push(t0.elapsed());
        drop(w);
    }
    times.sort();
    println!(
        "world start-up: min {:?}, median {:?}, max {:?}",
        times[0], times[2], times[4]
    );

    let w = World::start(WorldConfig::for_test())
        .await
        .expect("start world");
    let t0 = Instant::now();
    drop(w);
    println!("world drop (kill children): {:?}", t0.elapsed());

    let w = World::start(WorldConfig::for_test())
        .await
        .expect("start world");
    let pool = w
        .name_server_addr("ns-17.awsdns-01.com")
        .expect("pool server");
    for conc in [1, 8] {
        println!(
            "pool server (in-process, REFUSED path), concurrency {conc}: {:.0} q/s",
            qps(pool, "example.com", false, 4000, conc).await
        );
        println!(
            "tld knotd, concurrency {conc}: {:.0} q/s",
            qps(w.tld_server(), "com", false, 4000, conc).await
        );
        println!(
            "unbound (cached), concurrency {conc}: {:.0} q/s",
            qps(w.resolver(), "com", true, 4000, conc).await
        );
    }
}
